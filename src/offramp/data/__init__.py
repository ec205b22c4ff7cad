"""Decrypt and export: the researcher's offline stage (docs/data.md).

    decrypt.py    open sealed records with the private keys; failures counted by reason
    dataset.py    the tidy dataset (one row per respondent, `var__choice` columns, missing codes)
    quality.py    quality flags as columns: speeders, straight-lining, attention, near-duplicates
    codebook.py   the codebook beside the data (JSON for programs, HTML for people)
    formats.py    writers: csv, parquet, xlsx (xlsx.py), sav and dta (labelled.py)
    neutralise.py spreadsheet-formula neutralisation of text cells
    naming.py     names legal in SPSS and Stata;  atomic.py  temp-file-and-rename writes
    export.py     the pipeline (`run_export`);  cli.py  `offramp export`

Nothing is imported here, so `offramp.data.codes` stays cheap for the stages that need only it.
"""
