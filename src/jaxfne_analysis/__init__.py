"""Analysis of jaxfne signals: laminar spectra, relative power, FLIP and vFLIP, and figures."""
