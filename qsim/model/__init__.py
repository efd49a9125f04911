"""The model: the clock, jobs, the backend, batch and session contexts, workloads and the
engine that runs them. The only floor that imports SimPy; it never imports pandas.
``engine.run(scenario, seed) -> (Trace, RunInfo)`` is its one entry."""
