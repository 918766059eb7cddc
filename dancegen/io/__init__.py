"""Input and output: what crosses the boundary between files and arrays, with one clear message when it cannot.

* :mod:`.photo`: photo files, bytes and arrays -> an upright 8-bit RGB picture;
* :mod:`.audio`: music files -> a mono waveform of the requested segment;
* :mod:`.video`: frames + music -> browser-playable H.264/AAC mp4s;
* :mod:`.read`: probing videos with a real decoder; their frames (all, the first n, chosen ones); a video's frames at
  chosen times (a ground truth to compare with);
* :mod:`.compose`: the labelled side-by-side A/B clip;
* :mod:`.interpolate`: generated frames at --fps -> frames at --output-fps (the output times, a streaming
  interpolator, the classical optical-flow in-between);
* :mod:`.streams`: every mp4 of a generation written at the output rate as the generated chunks arrive;
* :mod:`.outputs`: per-request output folders;
* :mod:`.files`: files written whole or not at all (temporary name, then renamed), and file digests.
"""
