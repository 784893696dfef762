"""The managers' queue and desk. A lead is opened, claimed or assigned (`queue`), shown as
a card in the managers' group and to its owner (`cards`, with the desk's lines from
`desk_card`), moved along the pipeline (`pipeline`, drawn in
handlers/managers/pipeline.mmd), escalated when nobody acts (`escalation`), and talked
through with the buyer (`relay`). After approval the disbursement `checklist` runs;
`sources` are the car shows' deep links; `stats` and `export` read the whole book.
Inside this package cards, pipeline, escalation and checklist call each other (a card
shows the pipeline's buttons, the pipeline refreshes the card); the calls back are
imported where they are used."""
