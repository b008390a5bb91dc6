"""The book layer: building the book, and what its chapters display.

- :mod:`~msa_lib.book.build`: runs the chapters with papermill and builds the HTML;
- :mod:`~msa_lib.book.chapter`: a chapter's setup (style, data folder, its "Data:" line);
- :mod:`~msa_lib.book.display`: numbered, captioned tables and figures, and their saved copies;
- :mod:`~msa_lib.book.format`: how values, intervals and data sources are written;
- :mod:`~msa_lib.book.figures`: the plots more than one chapter draws.

Nothing below this layer imports it: studies return numbers, the chapters show them.
"""
