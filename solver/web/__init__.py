"""`elig serve`: a local web consultant (interview, drafter pages, JSON API) over the library."""
