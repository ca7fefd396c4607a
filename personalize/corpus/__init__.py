"""Personal corpora: the document model, loaders for published formats, and the demo corpus."""

from personalize.corpus.document import Document
from personalize.corpus.errors import BadRecordError, RecordReport

__all__ = ["Document", "BadRecordError", "RecordReport"]
