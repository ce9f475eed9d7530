#!/usr/bin/env python3
"""Parses packaging/kubernetes/agent-sidecar.yaml and asserts what docs/deploy.md
promises of it: the agent is a sidecar in the app's pod (one pod spec, so one network
namespace), it holds exactly NET_ADMIN and BPF (ALL dropped), runs as uid 0 with only those (the
app as a non-zero uid) without privilege escalation on a read-only root, reads the cookie from a Secret mounted read-only with
mode 0400 at the path its --cookie-file names, joins the app's node (--node), spares the
controller (--exempt) and keeps its ledger on an emptyDir (--state-dir).

Usage: kubernetes_manifest.py MANIFEST. Prints PASS or the failed assertions; exit 0/1."""
import sys

import yaml

failures = []


def check(cond, what):
    if not cond:
        failures.append(what)
    return cond


def flag(args, name):
    """The value after `name` in an argument list, or None."""
    for i, a in enumerate(args):
        if a == name and i + 1 < len(args):
            return args[i + 1]
        if a.startswith(name + "="):
            return a.split("=", 1)[1]
    return None


def main(path):
    with open(path, encoding="utf-8") as f:
        docs = [d for d in yaml.safe_load_all(f) if d]
    workloads = [d for d in docs if d.get("kind") in ("StatefulSet", "Deployment", "DaemonSet", "Pod")]
    if not check(len(workloads) == 1, f"one workload, found {len(workloads)}"):
        return
    w = workloads[0]
    spec = w["spec"] if w["kind"] == "Pod" else w["spec"]["template"]["spec"]
    containers = {c["name"]: c for c in spec.get("containers", [])}
    agents = [c for c in containers.values() if "ticksplit-agent" in c.get("image", "")]
    apps = [c for c in containers.values() if c not in agents]
    # One pod spec holds both: containers of a pod share its network namespace.
    check(len(agents) == 1, f"one agent container in the pod spec, found {len(agents)}")
    check(len(apps) >= 1, "the app container in the same pod spec as the agent")
    check(not spec.get("hostNetwork", False), "not hostNetwork: the agent belongs to the pod's namespace")
    if not agents:
        return
    agent = agents[0]
    pod_sc = spec.get("securityContext", {}) or {}
    sc = agent.get("securityContext", {}) or {}

    def setting(key):
        return sc.get(key, pod_sc.get(key))

    caps = sc.get("capabilities", {}) or {}
    check(sorted(caps.get("add", [])) == ["BPF", "NET_ADMIN"], f"capabilities add exactly NET_ADMIN and BPF: {caps.get('add')}")
    check(caps.get("drop") == ["ALL"], f"capabilities drop ALL: {caps.get('drop')}")
    # Root in the container, with only the two capabilities (ALL dropped, checked above): the
    # runtimes give a non-zero uid added capabilities only in its bounding set.
    uid = setting("runAsUser")
    check(uid == 0 and setting("runAsNonRoot") is not True, f"the agent runs as uid 0: runAsUser {uid}")
    cookie_secret = next((v["secret"]["secretName"] for v in spec.get("volumes", []) if "secret" in v), None)
    for app in apps:
        # The node needs the same cookie: from the agent's Secret, through the environment or a mount.
        refs = [e["valueFrom"]["secretKeyRef"]["name"] for e in app.get("env", [])
                if (e.get("valueFrom") or {}).get("secretKeyRef")]
        mounted = [m["name"] for m in app.get("volumeMounts", [])]
        secret_volumes = {v["name"]: v["secret"]["secretName"] for v in spec.get("volumes", []) if "secret" in v}
        check(cookie_secret is not None and (cookie_secret in refs or
                                             any(secret_volumes.get(m) == cookie_secret for m in mounted)),
              f"the app container {app['name']} gets the cookie from the agent's Secret")
        app_sc = app.get("securityContext", {}) or {}
        app_uid = app_sc.get("runAsUser", pod_sc.get("runAsUser"))
        check(isinstance(app_uid, int) and app_uid > 0, f"the app container {app['name']} runs as a non-zero uid")
        check((app_sc.get("capabilities") or {}).get("drop") == ["ALL"], f"the app container {app['name']} drops ALL")
    check(sc.get("allowPrivilegeEscalation") is False, "allowPrivilegeEscalation: false")
    check(sc.get("privileged", False) is False, "not privileged")
    check(sc.get("readOnlyRootFilesystem") is True, "readOnlyRootFilesystem: true")

    args = agent.get("args", []) + agent.get("command", [])[1:]
    volumes = {v["name"]: v for v in spec.get("volumes", [])}
    mounts = agent.get("volumeMounts", [])

    def mount_of(path):
        """The agent's mount that holds `path`, and its volume."""
        best = None
        for m in mounts:
            mp = m["mountPath"].rstrip("/")
            if path == mp or path.startswith(mp + "/"):
                if best is None or len(mp) > len(best["mountPath"].rstrip("/")):
                    best = m
        return best, volumes.get(best["name"]) if best else None

    node = flag(args, "--node")
    check(node is not None and "@" in node, f"--node names the app's node: {node}")
    cookie = flag(args, "--cookie-file")
    if check(cookie is not None, "--cookie-file given"):
        m, v = mount_of(cookie)
        if check(m is not None and v is not None, f"--cookie-file {cookie} lies on a mounted volume"):
            check(m.get("readOnly") is True, "the cookie is mounted read-only")
            secret = v.get("secret")
            if check(secret is not None, f"the cookie's volume {m['name']} is a Secret"):
                # YAML 0400 is the integer 256; a string would be read as decimal by the API.
                check(secret.get("defaultMode") == 0o400, f"the cookie's defaultMode is 0400: {secret.get('defaultMode')}")
                check(cookie[len(m["mountPath"].rstrip("/")) + 1:] in
                      [i.get("path") for i in secret.get("items", [])] + ["cookie"], "the cookie file is the secret's key")
    check(flag(args, "--exempt") is not None, "--exempt names the controller")
    state = flag(args, "--state-dir")
    if check(state is not None, "--state-dir given"):
        m, v = mount_of(state)
        check(m is not None and v is not None and "emptyDir" in v, f"--state-dir {state} on an emptyDir")
    # The runtime's default seccomp profile may refuse bpf(): the agent's container must not
    # be left to it silently.
    seccomp = (sc.get("seccompProfile") or pod_sc.get("seccompProfile") or {}).get("type")
    check(seccomp in ("Unconfined", "Localhost"), f"a seccomp profile that allows bpf(): {seccomp}")


if __name__ == "__main__":
    main(sys.argv[1])
    failures = [f for f in failures if f]
    if failures:
        for f in failures:
            print("FAIL kubernetes_manifest:", f)
        sys.exit(1)
    print("PASS kubernetes_manifest")
