"""The stages' machinery: Beam shells (`transforms`), the tokenize/pack core (`packing`),
the report (`report`) and exports (`exports`)."""
