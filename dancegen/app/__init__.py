"""The web app (Gradio): the studio behind a page and an API, for people and for scripts.

* :mod:`.serve`: ``python app.py`` / ``dancegen serve``: settings, studio, launch;
* :mod:`.layout`: the page and its events;
* :mod:`.handlers`: what each event does (:class:`~dancegen.app.handlers.DanceApp`), and how errors reach the page;
* :mod:`.plots`: the tables behind the music and similarity plots;
* :mod:`.text`: every string the page shows.

Importing this package imports nothing else (gradio loads with :mod:`.layout` / :mod:`.handlers`).
"""
