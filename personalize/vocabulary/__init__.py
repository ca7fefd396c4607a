"""The SentencePiece vocabulary shared by every task: T5's when the user has it, else one trained here."""
