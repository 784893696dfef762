"""A person's data rights (`rights`): what /mydata shows, what /forget deletes, keeps and
anonymises, and the retention purge. Reads across leads and loans, so it has a package of
its own rather than sitting in people (which leads import)."""
