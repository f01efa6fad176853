"""The build: every notebook for every period through papermill, cached, with an index page
and a manifest.
"""

from __future__ import annotations

from vip2analysis.build.index import HEADLINE_TABLE, index_figures, write_index
from vip2analysis.build.jobs import Job, JobResult, plan_jobs, run_job
from vip2analysis.build.manifest import previous_audits
from vip2analysis.build.params import check_extra, check_parameters, notebook_parameters
from vip2analysis.build.runner import BuildResult, build

__all__ = [
    "HEADLINE_TABLE",
    "BuildResult",
    "Job",
    "JobResult",
    "build",
    "check_extra",
    "check_parameters",
    "index_figures",
    "notebook_parameters",
    "plan_jobs",
    "previous_audits",
    "run_job",
    "write_index",
]
