"""Reports: figures that explain a run, the self-contained report.html, the HTML toolkit they
share, and comparisons of runs. Keras-free: they read run files and arrays."""
