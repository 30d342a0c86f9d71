"""The synthetic population of :mod:`training.synthetic`, one module per part of the generative story.

``sampling`` (random streams and weighted choice), ``catalogue`` (the taxonomy arranged by sector),
``region`` (postcodes, consulenten, employers), ``context`` (what all chunks share), ``people``
(protected attributes and names), ``clients`` and ``client_texts``, ``vacancies`` and
``vacancy_texts``.
"""
