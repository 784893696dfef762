"""The statements behind a person's data rights: what /mydata reads (`export`), what
/forget deletes and anonymises (`forget`), the retention purge's candidates (`retention`)
and the anonymous counts both leave behind (`counts`)."""
