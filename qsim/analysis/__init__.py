"""The analysis: record log -> tables -> usage, idle time and the summary. The only floor
besides the pictures that imports pandas; it never imports the model or SimPy, so every
table can be tested on a hand-written record log."""
