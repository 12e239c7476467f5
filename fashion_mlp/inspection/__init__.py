"""What a trained network learned and why it answers: weights, activations, attributions, a map of
the test set, calibration."""
