"""The Beam-free tokenize/pack core: tokenizer, segments, mixture plan, best-fit rows, shards."""
