"""AWX's side of a job, for running the job templates of awx/configure_awx.yml here.

``awx/configure_awx.yml`` is run for real by ansible-playbook, with an ``awx.awx`` collection whose
modules record their arguments instead of calling AWX's API (there is no AWX here): the records are the
objects AWX would hold, every value templated by Ansible as it would be sent. A job of one of those job
templates is then run the way AWX runs it, through ansible-runner (AWX's job executor):

- the project: a copy of the repository's files in ``<private data dir>/project``;
- the execution environment: the collection built (``ansible-galaxy collection build``) and installed
  into its own collections path, as ``awx/execution-environment.yml`` does, and its own home directory;
- the inventory: the inventory's variables, its host and (when configured) its inventory source
  exported with ``ansible-inventory --list --export`` and handed to the job as an inventory script;
- the extra vars: the template's, the survey's answers and AWX's ``awx_*``/``tower_*`` job variables;
- the environment: the custom credential type's injectors rendered with the credential's inputs (in
  Jinja's sandbox, as AWX does), the inventory source's variables for the source's update;
- the job type (``--check``) and the template's diff mode (``--diff``).

A notification template's messages are rendered the way AWX renders them, with the job and its
artifacts (``set_stats`` data, from the run's ``playbook_on_stats`` event).
"""

import json
import os
import shutil
import subprocess
import sys

import ansible_runner
import yaml
from jinja2.sandbox import ImmutableSandboxedEnvironment

from tests.sandbox import MBS_PASSWORD, MBS_USERNAME

from .conftest import BIN, CREDENTIALS, ROOT

CONFIGURE = os.path.join(ROOT, "awx", "configure_awx.yml")
AWX_MODULES = ("credential_type", "credential", "project", "inventory", "host", "inventory_source",
               "notification_template", "job_template", "schedule")
RECORDER = '''
import json
import os

from ansible.plugins.action import ActionBase


class ActionModule(ActionBase):
    """Records what would be sent to AWX; AWX is not here."""

    def run(self, tmp=None, task_vars=None):
        result = super(ActionModule, self).run(tmp, task_vars)
        with open(os.environ["AWX_RECORD"], "a") as handle:
            handle.write(json.dumps({"module": self._task.action.split(".")[-1], "args": self._task.args}) + "\\n")
        result["changed"] = False
        return result
'''
JOB_ID = 100


def recorder_collection(path):
    """An ``awx.awx`` collection whose modules record their arguments (one action plugin each)."""
    base = os.path.join(path, "ansible_collections", "awx", "awx")
    os.makedirs(os.path.join(base, "plugins", "action"))
    with open(os.path.join(base, "galaxy.yml"), "w") as handle:
        yaml.safe_dump({"namespace": "awx", "name": "awx", "version": "24.6.1", "authors": ["tests"],
                        "readme": "README.md"}, handle)
    for module in AWX_MODULES:
        with open(os.path.join(base, "plugins", "action", module + ".py"), "w") as handle:
            handle.write(RECORDER)
    return path


def execution_environment(path):
    """The collection as an execution environment holds it: built, then installed (no symlink)."""
    build = os.path.join(path, "build")
    subprocess.run([os.path.join(BIN, "ansible-galaxy"), "collection", "build", "--output-path", build, ROOT],
                   check=True, capture_output=True, text=True, timeout=300)
    [artifact] = [os.path.join(build, name) for name in os.listdir(build)]
    collections = os.path.join(path, "collections")
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=collections)
    subprocess.run([os.path.join(BIN, "ansible-galaxy"), "collection", "install", "--offline", "--no-deps",
                    "--force", "-p", collections, artifact], check=True, capture_output=True, text=True,
                   env=env, timeout=300)
    return collections


def project_files():
    """The project's files as git has them (tracked, and untracked but not ignored)."""
    listed = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=ROOT,
                            check=True, capture_output=True, text=True).stdout
    return [name for name in listed.split("\0") if name and os.path.isfile(os.path.join(ROOT, name))]


def plain(value):
    """ansible-inventory's JSON without ansible-core's ``__ansible_unsafe`` wrappers (AWX stores plain JSON)."""
    if isinstance(value, dict):
        if set(value) == {"__ansible_unsafe"}:
            return value["__ansible_unsafe"]
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain(v) for v in value]
    return value


def render(template, **context):
    """A template AWX fills in itself (injectors, notification messages), in Jinja's sandbox as AWX does."""
    return ImmutableSandboxedEnvironment().from_string(template).render(**context)


class Objects:
    """What configure_awx.yml sent, by module: ``objects.job_template["<name>"]``."""

    def __init__(self, records):
        self.records = records

    def all(self, module):
        return [r["args"] for r in self.records if r["module"] == module]

    def one(self, module, name=None):
        found = [args for args in self.all(module) if name is None or args["name"] == name]
        assert len(found) == 1, (module, name, [a.get("name") for a in self.all(module)])
        return found[0]

    def credential_environment(self, credential_name):
        """The environment a job with this credential gets: its type's injectors over its inputs."""
        credential = self.one("credential", credential_name)
        kind = self.one("credential_type", credential["credential_type"])
        fields = [field["id"] for field in kind["inputs"]["fields"]]
        inputs = dict((field, credential["inputs"].get(field, "")) for field in fields)
        return dict((name, render(value, **inputs)) for name, value in kind["injectors"]["env"].items())


class Job:
    """One finished job: ansible-runner's result, the stdout, AWX's view of the artifacts."""

    def __init__(self, runner, private_data_dir, extra_vars):
        self.rc = runner.rc
        self.status = runner.status
        self.stdout = runner.stdout.read()
        self.events = list(runner.events)
        self.stats = runner.stats or {}
        self.private_data_dir = private_data_dir
        self.extra_vars = extra_vars
        stats = [e for e in self.events if e.get("event") == "playbook_on_stats"]
        self.artifacts = (stats[-1].get("event_data") or {}).get("artifact_data") or {} if stats else {}

    @property
    def billing(self):
        return self.artifacts["mbs_connectwise_billing"]

    def changed(self, host="localhost"):
        return (self.stats.get("changed") or {}).get(host, 0)

    def task_results(self, status="runner_on_failed"):
        return [e["event_data"] for e in self.events if e.get("event") == status]

    def __repr__(self):
        return "<Job rc=%s status=%s>\n%s" % (self.rc, self.status, self.stdout[-6000:])


class Controller:
    """AWX holding the objects of awx/configure_awx.yml, launching their job templates against the sandbox."""

    def __init__(self, sandbox, workdir, ee_collections, recorder):
        self.sandbox = sandbox
        self.workdir = workdir
        self.ee_collections = ee_collections
        self.recorder = recorder
        self.jobs = 0
        self.objects = None

    def credential_values(self):
        """What the administrator fills in: the sandbox's ConnectWise and MSP360 credentials."""
        return dict(CREDENTIALS, CW_SITE=self.sandbox.url, MBS_API_URL=self.sandbox.mbs_url,
                    MBS_USERNAME=MBS_USERNAME, MBS_PASSWORD=MBS_PASSWORD)

    def configure(self, **extra_vars):
        """Run awx/configure_awx.yml; only the project URL (and the test's own choices) are given."""
        record = os.path.join(self.workdir, "configure-%d.jsonl" % len(os.listdir(self.workdir)))
        extra = dict({"awx_project_scm_url": "file://" + ROOT}, **extra_vars)
        env = dict(os.environ, **self.credential_values())
        env.update(AWX_RECORD=record, ANSIBLE_NOCOLOR="1",
                   ANSIBLE_COLLECTIONS_PATH=os.pathsep.join([self.recorder, os.path.join(ROOT, ".collections")]),
                   ANSIBLE_CONFIG=os.path.join(ROOT, "ansible.cfg"), PATH=BIN + os.pathsep + env.get("PATH", ""))
        proc = subprocess.run([os.path.join(BIN, "ansible-playbook"), CONFIGURE, "-e", json.dumps(extra)],
                              cwd=ROOT, env=env, capture_output=True, text=True, timeout=300, check=False)
        assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]
        with open(record) as handle:
            self.objects = Objects([json.loads(line) for line in handle if line.strip()])
        return self.objects

    # ---- a job ----------------------------------------------------------------------------------------

    def _project(self, private_data_dir):
        project = os.path.join(private_data_dir, "project")
        for name in project_files():
            os.makedirs(os.path.join(project, os.path.dirname(name)), exist_ok=True)
            shutil.copy2(os.path.join(ROOT, name), os.path.join(project, name))
        return project

    def export_inventory(self, project, credential_env, host_variables=None):
        """The job's inventory: ``ansible-inventory --list --export`` of what AWX holds (and syncs)."""
        inventory = self.objects.one("inventory")
        database = os.path.join(os.path.dirname(project), "inventory-database")
        os.makedirs(database)
        hosts = dict((host["name"], host.get("variables") or {}) for host in self.objects.all("host"))
        with open(os.path.join(database, "hosts.yml"), "w") as handle:
            yaml.safe_dump({"all": {"vars": inventory.get("variables") or {}, "hosts": hosts}}, handle)
        cmd = [os.path.join(BIN, "ansible-inventory"), "-i", os.path.join(database, "hosts.yml")]
        env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=self.ee_collections, ANSIBLE_INVENTORY_UNPARSED_FAILED="true",
                   ANSIBLE_CONFIG=os.path.join(project, "ansible.cfg"), **credential_env)
        for source in self.objects.all("inventory_source"):
            # An inventory update: the source file in the project, its credential, its variables as environment.
            cmd += ["-i", os.path.join(project, source["source_path"])]
            env.update(self.objects.credential_environment(source["credential"]))
            env.update((str(k), str(v)) for k, v in (source.get("source_vars") or {}).items())
        proc = subprocess.run(cmd + ["--list", "--export"], cwd=project, env=env, capture_output=True, text=True,
                              timeout=300, check=False)
        assert proc.returncode == 0, proc.stderr
        exported = plain(json.loads(proc.stdout))
        # Variables given to a synced host in AWX stay (the source's overwrite_vars: false).
        for host, variables in (host_variables or {}).items():
            exported["_meta"]["hostvars"].setdefault(host, {}).update(variables)
        return exported

    def awx_variables(self, template, launch_type, schedule=None):
        """AWX's job variables, in the extra vars of every job (so in every host's variables)."""
        inventory = self.objects.one("inventory")
        project = self.objects.one("project")
        values = {"job_id": JOB_ID + self.jobs, "job_launch_type": launch_type, "job_template_id": 7,
                  "job_template_name": template["name"], "inventory_id": 3, "inventory_name": inventory["name"],
                  "project_revision": "0123456789abcdef0123456789abcdef01234567",
                  "project_scm_branch": project["scm_branch"], "execution_node": "awx-task-0"}
        if schedule:
            values.update(schedule_id=5, schedule_name=schedule["name"])
        else:
            values.update(user_id=1, user_name="admin", user_email="admin@msp.example", user_first_name="Ada",
                          user_last_name="Admin")
        return dict(("%s_%s" % (prefix, key), value) for prefix in ("awx", "tower") for key, value in values.items())

    def launch(self, template_name, job_type="run", survey=None, today=None, schedule=None, host_variables=None):
        """Launch a job template as AWX does; ``today`` is the test's clock (the roles' connectwise_today,
        default the sandbox's date), never the machine's."""
        self.jobs += 1
        today = today or self.sandbox.today.isoformat()
        template = self.objects.one("job_template", template_name)
        assert job_type == "run" or template.get("ask_job_type_on_launch"), template
        private_data_dir = os.path.join(self.workdir, "job-%d" % (JOB_ID + self.jobs))
        project = self._project(private_data_dir)
        credential_env = {}
        for credential in template.get("credentials") or []:
            credential_env.update(self.objects.credential_environment(credential))

        answers = dict(survey or {})
        if template.get("survey_enabled"):
            for question in template["survey_spec"]["spec"]:
                assert not question.get("required") or question["variable"] in answers, question
                value = answers.get(question["variable"], "")
                assert question.get("min", 0) <= len(value) <= question.get("max", len(value)), (question, value)
        else:
            assert not answers, "the template %s has no survey" % template_name
        extra_vars = dict(template.get("extra_vars") or {}, **answers)
        extra_vars.update(self.awx_variables(template, "scheduled" if schedule else "manual", schedule))
        extra_vars["connectwise_today"] = today

        inventory = self.export_inventory(project, credential_env, host_variables)
        os.makedirs(os.path.join(private_data_dir, "inventory"))
        script = os.path.join(private_data_dir, "inventory", "hosts")
        with open(script, "w") as handle:
            handle.write("#!%s\nimport sys\nsys.stdout.write(%r)\n" % (sys.executable, json.dumps(inventory)))
        os.chmod(script, 0o700)

        env = dict(credential_env, JOB_ID=str(JOB_ID + self.jobs), INVENTORY_ID="3", PROJECT_REVISION="0123456",
                   ANSIBLE_RETRY_FILES_ENABLED="False", ANSIBLE_COLLECTIONS_PATH=self.ee_collections,
                   HOME=os.path.join(private_data_dir, "home"), AWX_HOST="https://awx.msp.example",
                   PATH=BIN + os.pathsep + os.environ.get("PATH", ""))
        os.makedirs(env["HOME"])
        cmdline = (["--check"] if job_type == "check" else []) + (["--diff"] if template.get("diff_mode") else [])
        os.makedirs(os.path.join(private_data_dir, "env"))
        for name, content in (("extravars", extra_vars), ("envvars", env)):
            with open(os.path.join(private_data_dir, "env", name), "w") as handle:
                json.dump(content, handle)
        with open(os.path.join(private_data_dir, "env", "cmdline"), "w") as handle:
            handle.write(" ".join(cmdline))
        runner = ansible_runner.run(private_data_dir=private_data_dir, playbook=template["playbook"],
                                    ident="job", quiet=True, timeout=900)
        return Job(runner, private_data_dir, extra_vars)

    def notification(self, name, job, template_name, status="success"):
        """The (message, body) AWX would send for ``job`` with the notification template ``name``."""
        messages = self.objects.one("notification_template", name)["messages"][status]
        context = {"job": {"id": job.extra_vars["awx_job_id"], "name": template_name, "status": "successful",
                           "artifacts": job.artifacts},
                   "url": "https://awx.msp.example/#/jobs/playbook/%s" % job.extra_vars["awx_job_id"],
                   "job_friendly_name": "Job"}
        return render(messages["message"], **context), render(messages["body"], **context)
