"""run_jobs starts each job as a real process (subprocess.Popen of the job's argv), in the order
its dependencies allow, with the given thread count; a job whose done file exists is not run
again; a failure is reported with its log's last lines and the jobs that need it are skipped."""
import sys

from mejigclu_mm.cli.comparison.jobs import run_jobs
from mejigclu_mm.cli.comparison.runs import Job

# A job that records its OMP_NUM_THREADS and the jobs done before it, then writes its done file.
SCRIPT = """
import os, sys
done = sys.argv[1]
seen = sorted(name for name in os.listdir(os.path.dirname(done)) if name.endswith('.done'))
print('threads', os.environ['OMP_NUM_THREADS'], 'after', seen)
if 'fail' in done:
    sys.exit('this job fails')
open(done, 'w').write('ok')
"""


def job(tmp_path, name, after=()):
    done = str(tmp_path / f'{name}.done')
    return Job(name, lambda: [sys.executable, '-c', SCRIPT, done], done, list(after),
               log=str(tmp_path / f'{name}.log'))


def test_jobs_run_in_order_once_and_failures_skip_what_needs_them(tmp_path):
    lines = []
    jobs = [job(tmp_path, 'b', after=['a']), job(tmp_path, 'a'), job(tmp_path, 'fail'),
            job(tmp_path, 'needs-fail', after=['fail'])]
    failed = run_jobs(jobs, parallel=2, threads=3, poll=0.05, say=lines.append)
    assert failed == ['fail', 'needs-fail']
    assert (tmp_path / 'b.log').read_text().strip() == "threads 3 after ['a.done']"
    report = '\n'.join(lines)
    assert 'FAILED fail (1); last lines of' in report and 'this job fails' in report
    assert 'skipped needs-fail: it needs fail' in report
    assert not (tmp_path / 'needs-fail.log').exists()

    lines.clear()  # a second call runs only what is not done
    assert run_jobs(jobs[:2], say=lines.append, poll=0.05) == []
    assert not any(line.startswith('[') and 'started' in line for line in lines)
