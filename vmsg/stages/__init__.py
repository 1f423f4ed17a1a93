"""The library API: one module per stage, each with an Options model that is
the only home of that stage's defaults."""
