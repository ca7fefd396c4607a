"""Loaders, one per published format; each streams `Document`s and fills a `RecordReport`."""
