"""The web app (Gradio): the studio behind a page and an API, for people and for scripts.

* :mod:`.serve`: ``python app.py`` / ``dancegen serve``: settings, studio, launch;
* :mod:`.layout`: the page and its events;
* :mod:`.controls`: the page's controls, declared once, and how handlers get them by name;
* :mod:`.handlers`: what each event does (:class:`~dancegen.app.handlers.DanceApp`);
* :mod:`.words`: how errors and times reach the page (by kind: the user's, a limit's, ours);
* :mod:`.choreography`, :mod:`.motion`: the choreography panel; a motion upload read once;
* :mod:`.gpu_time`: the ZeroGPU time a run asks for, and a quota refusal in a visitor's words;
* :mod:`.plots`: the tables behind the music and similarity plots;
* :mod:`.text`: every string the page shows.

Importing this package imports nothing else (gradio loads with :mod:`.layout` / :mod:`.handlers`).
"""
