"""Dataset-scale stages: ranked contexts for every example (Apache Beam or in-process) and their readers."""
