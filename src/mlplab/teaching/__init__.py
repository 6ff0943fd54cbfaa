"""Teaching aids: backpropagation by hand (the worked examples) and the course's data sets."""
