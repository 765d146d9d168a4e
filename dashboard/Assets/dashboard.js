// The dashboard's one script: progressive enhancement of server-rendered pages (every page works without it, but the
// log then shows as a link). It follows job logs over the API's Server-Sent Events stream, renders only the visible
// lines (virtualised: a 100,000-line log costs as much to scroll as a screenful), and reloads pages that show work in
// progress. No framework, no build step: the server embeds this file.
"use strict";
(() => {
  const LINE = 18; // px, as .log-line in dashboard.css

  function logViewer(section) {
    const job = section.dataset.job;
    const box = section.querySelector(".log");
    const spacer = section.querySelector(".log-spacer");
    const count = section.querySelector(".log-count");
    const follow = section.querySelector(".log-follow");
    const nextError = section.querySelector(".log-next-error");
    const rows = []; // {text, kind: "stage"|"error"|"warn"|"", n}
    const errors = [];
    let stage = null, lines = 0, ended = false, scheduled = false, lastErrorShown = -1, status = section.dataset.status;

    function add(log) {
      if (log.stage && log.stage !== stage) {
        stage = log.stage;
        rows.push({ text: "▸ " + stage, kind: "stage", n: "" });
      }
      lines++;
      const kind = log.level === "error" ? "error" : log.level === "warn" ? "warn" : "";
      if (kind === "error") errors.push(rows.length);
      rows.push({ text: log.output, kind, n: String(lines) });
    }

    function render() {
      scheduled = false;
      spacer.style.height = rows.length * LINE + "px";
      if (follow.checked) box.scrollTop = box.scrollHeight;
      const first = Math.max(0, Math.floor(box.scrollTop / LINE) - 20);
      const last = Math.min(rows.length, Math.ceil((box.scrollTop + box.clientHeight) / LINE) + 20);
      const fragment = document.createDocumentFragment();
      for (let i = first; i < last; i++) {
        const row = rows[i];
        const div = document.createElement("div");
        div.className = "log-line" + (row.kind ? " " + row.kind : "");
        div.style.top = i * LINE + "px";
        const n = document.createElement("span");
        n.className = "n";
        n.textContent = row.n;
        div.append(n, row.text);
        fragment.append(div);
      }
      spacer.replaceChildren(fragment);
      const errorText = errors.length ? ` · ${errors.length} error line${errors.length === 1 ? "" : "s"}` : "";
      count.textContent = `${lines.toLocaleString("en")} lines${errorText}${ended ? " · " + status : " · streaming"}`;
      nextError.disabled = errors.length === 0;
    }

    function schedule() {
      if (!scheduled) { scheduled = true; requestAnimationFrame(render); }
    }

    box.addEventListener("scroll", () => {
      // Scrolling up stops following; scrolling back to the end resumes it.
      const atEnd = box.scrollTop + box.clientHeight >= box.scrollHeight - LINE;
      if (follow.checked !== atEnd && !ended) follow.checked = atEnd;
      schedule();
    });
    follow.addEventListener("change", schedule);
    nextError.addEventListener("click", () => {
      lastErrorShown = errors.findIndex(i => i > lastErrorShown);
      if (lastErrorShown < 0) lastErrorShown = 0;
      const row = errors[lastErrorShown];
      lastErrorShown = row;
      follow.checked = false;
      box.scrollTop = Math.max(0, row * LINE - box.clientHeight / 3);
      schedule();
    });

    const source = new EventSource(`/api/v1/jobs/${job}/logs?follow=true`);
    source.addEventListener("log", e => { add(JSON.parse(e.data)); schedule(); });
    source.addEventListener("end", e => {
      source.close();
      ended = true;
      const before = status;
      status = JSON.parse(e.data).status;
      section.dataset.status = status;
      section.dispatchEvent(new CustomEvent("job-ended", { bubbles: true, detail: { status, before } }));
      schedule();
    });
    source.onerror = () => {
      // EventSource reconnects by itself (resuming after the last id); say so while it does.
      if (!ended) count.textContent = `${lines.toLocaleString("en")} lines · reconnecting…`;
    };
    schedule();
  }

  document.querySelectorAll(".log-viewer").forEach(logViewer);

  // A page that showed a job still in progress reloads once the job ends, to show its outcome and timings.
  document.addEventListener("job-ended", e => {
    const then = document.getElementById("then-start");
    if (then && e.detail.status === "succeeded") { then.requestSubmit(); return; }
    const after = document.getElementById("after-success");
    if (after && after.dataset.href && e.detail.status === "succeeded") { location.assign(after.dataset.href); return; }
    if (e.detail.before !== e.detail.status) setTimeout(() => location.reload(), 500);
  });
  const thenNow = document.getElementById("then-start");
  if (thenNow && thenNow.dataset.when === "now") thenNow.requestSubmit();

  // Pages listing work in progress refresh while it lasts, but never under a user who is typing or choosing.
  const refresh = document.querySelector('meta[name="provisioning-refresh"]');
  if (refresh) {
    const seconds = Number(refresh.content) || 5;
    setInterval(() => {
      const active = document.activeElement;
      if (active && ["INPUT", "SELECT", "TEXTAREA"].includes(active.tagName)) return;
      if (document.querySelector(".log-viewer")) return; // the log stream tells when to reload
      location.reload();
    }, seconds * 1000);
  }
})();
