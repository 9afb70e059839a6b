// labelport web UI: small hand-written helpers, no framework, no network but this server.
"use strict";

function csrfToken() {
  const meta = document.querySelector('meta[name="csrf-token"]');
  return meta ? meta.content : "";
}

// "Copy" buttons: copy their data-copy text.
function setUpCopyButtons() {
  document.querySelectorAll("button.copy[data-copy]").forEach((button) => {
    button.addEventListener("click", async () => {
      const text = button.dataset.copy;
      try {
        await navigator.clipboard.writeText(text);
        button.textContent = "Copied";
      } catch (_error) {
        const range = document.createRange();
        const code = button.previousElementSibling;
        if (code) { range.selectNodeContents(code); const s = getSelection(); s.removeAllRanges(); s.addRange(range); }
        button.textContent = "Selected: press Ctrl+C";
      }
      setTimeout(() => { button.textContent = "Copy"; }, 2000);
    });
  });
}

// The asset page: which label is drawn, which jobs and categories show, which video frame.
function setUpAssetPage() {
  const picture = document.getElementById("picture");
  if (!picture) return;
  const hidden = { jobs: new Set(), categories: new Set() };
  let frame = 0;
  const apply = () => {
    picture.querySelectorAll(".shape").forEach((shape) => {
      const off = hidden.jobs.has(shape.dataset.job) || hidden.categories.has(shape.dataset.job + "/" + shape.dataset.category);
      shape.classList.toggle("hidden", off);
    });
    picture.querySelectorAll("g.frame").forEach((group) => {
      const frames = document.querySelector(".frames");
      group.classList.toggle("hidden", frames !== null && Number(group.dataset.frame) !== frame);
    });
  };
  document.querySelectorAll('input[name="label"]').forEach((radio) => {
    radio.addEventListener("change", () => {
      picture.querySelectorAll("g.label").forEach((group) => {
        group.classList.toggle("hidden", group.dataset.labelId !== radio.value);
      });
    });
  });
  document.querySelectorAll("input[data-toggle-job]").forEach((box) => {
    box.addEventListener("change", () => {
      if (box.checked) hidden.jobs.delete(box.dataset.toggleJob); else hidden.jobs.add(box.dataset.toggleJob);
      apply();
    });
  });
  document.querySelectorAll("input[data-toggle-category]").forEach((box) => {
    box.addEventListener("change", () => {
      if (box.checked) hidden.categories.delete(box.dataset.toggleCategory); else hidden.categories.add(box.dataset.toggleCategory);
      apply();
    });
  });
  const frames = document.querySelector(".frames");
  if (frames) {
    const total = Number(frames.dataset.frames);
    const image = document.getElementById("picture-image");
    const step = (delta) => {
      frame = Math.min(total - 1, Math.max(0, frame + delta));
      document.getElementById("frame-no").textContent = String(frame);
      image.setAttribute("href", picture.dataset.image + "?frame=" + frame);
      apply();
    };
    frames.querySelectorAll("button[data-step]").forEach((b) => b.addEventListener("click", () => step(Number(b.dataset.step))));
    document.addEventListener("keydown", (event) => {
      if (event.target instanceof HTMLInputElement || event.target instanceof HTMLSelectElement) return;
      if (event.key === "ArrowRight") step(1);
      if (event.key === "ArrowLeft") step(-1);
    });
  }
}

// The export page: start a job through /api/exports, follow its progress, list past exports.
function jobPercent(job) {
  const p = job.progress;
  if (typeof p === "number") return p <= 1 && job.state !== "succeeded" ? Math.round(p * 100) : Math.round(Math.min(p, 100));
  if (p && typeof p === "object" && p.total) return Math.round((100 * p.done) / p.total);
  if (typeof job.done === "number" && job.total) return Math.round((100 * job.done) / job.total);
  return job.state === "succeeded" ? 100 : 0;
}

function reportText(report) {
  if (report === null || report === undefined) return "";
  return typeof report === "string" ? report : JSON.stringify(report, null, 2);
}

async function api(method, url, body) {
  const response = await fetch(url, {
    method,
    credentials: "same-origin",
    headers: Object.assign({ "X-CSRF-Token": csrfToken(), Accept: "application/json" }, body ? { "Content-Type": "application/json" } : {}),
    body: body ? JSON.stringify(body) : undefined,
  });
  let data = null;
  try { data = await response.json(); } catch (_error) { data = null; }
  if (!response.ok) {
    const message = (data && (data.message || data.detail || (data.errors && data.errors[0] && data.errors[0].message))) || response.statusText;
    throw new Error(message + " (HTTP " + response.status + ")");
  }
  return data;
}

function exportOptions(form) {
  const value = (name) => form.elements[name].value;
  const checked = (name) => form.elements[name].checked;
  const options = {
    project_id: form.dataset.projectId,
    fmt: value("fmt"),
    layout: value("layout"),
    dataset_layout: value("dataset_layout"),
    single_file: checked("single_file"),
    with_assets: checked("with_assets"),
    export_type: value("export_type"),
    label_type_in: Array.from(form.querySelectorAll('input[name="label_type_in"]:checked')).map((b) => b.value),
    include_sent_back_labels: checked("include_sent_back_labels"),
    strict: checked("strict"),
    split_seed: Number(value("split_seed") || 0),
    split_stratify: checked("split_stratify"),
  };
  if (value("normalized_coordinates")) options.normalized_coordinates = value("normalized_coordinates") === "true";
  if (value("split").trim()) options.split = value("split").trim();
  if (value("dataset_root").trim()) options.dataset_root = value("dataset_root").trim();
  if (value("workers").trim()) options.workers = Number(value("workers"));
  const externalIds = value("external_ids").split("\n").map((line) => line.trim()).filter((line) => line);
  if (externalIds.length) options.external_ids = externalIds;
  const filters = JSON.parse(form.dataset.filters || "{}");
  if (Object.keys(filters).length) options.asset_filter_kwargs = filters;
  return options;
}

function showJob(job) {
  const section = document.getElementById("export-status");
  section.hidden = false;
  document.getElementById("job-id").textContent = job.id;
  document.getElementById("job-state").textContent = job.state;
  const percent = jobPercent(job);
  const bar = document.getElementById("export-progress");
  bar.setAttribute("aria-valuenow", String(percent));
  bar.querySelector(".progress-fill").style.width = percent + "%";
  document.getElementById("job-progress-text").textContent = percent + " %";
  const link = document.getElementById("job-download");
  if (job.state === "succeeded") {
    link.hidden = false;
    link.href = "/api/exports/" + encodeURIComponent(job.id) + "/archive";
  }
  const report = document.getElementById("job-report");
  const text = reportText(job.report);
  report.hidden = !text;
  report.textContent = text;
  const error = document.getElementById("job-error");
  error.hidden = !job.error;
  error.textContent = job.error || "";
}

const FINAL = new Set(["succeeded", "failed", "cancelled"]);

function follow(jobId) {
  const done = (job) => { showJob(job); if (FINAL.has(job.state)) { loadPastExports(); return true; } return false; };
  const poll = async () => {
    try {
      const job = await api("GET", "/api/exports/" + encodeURIComponent(jobId));
      if (!done(job)) setTimeout(poll, 500);
    } catch (error) { showMessage(error.message); }
  };
  if (window.EventSource) {
    const source = new EventSource("/api/exports/" + encodeURIComponent(jobId) + "/events");
    source.onmessage = (event) => { try { if (done(JSON.parse(event.data))) source.close(); } catch (_e) { /* a keep-alive */ } };
    source.onerror = () => { source.close(); poll(); };
  } else {
    poll();
  }
}

function showMessage(text) {
  const message = document.getElementById("export-message");
  message.hidden = !text;
  message.textContent = text;
}

async function loadPastExports() {
  const table = document.getElementById("past-exports");
  if (!table) return;
  const body = table.querySelector("tbody");
  try {
    const data = await api("GET", "/api/exports?project_id=" + encodeURIComponent(table.dataset.projectId));
    const jobs = Array.isArray(data) ? data : (data && (data.jobs || data.items)) || [];
    body.replaceChildren();
    if (!jobs.length) { const row = body.insertRow(); const cell = row.insertCell(); cell.colSpan = 7; cell.textContent = "No export yet."; }
    jobs.forEach((job) => {
      const row = body.insertRow();
      const options = job.options || {};
      [job.created_at || job.createdAt || "", job.requested_by || job.user || "", options.fmt || job.fmt || "", job.state, jobPercent(job) + " %"].forEach((text) => {
        row.insertCell().textContent = text;
      });
      const archive = row.insertCell();
      if (job.state === "succeeded") {
        const link = document.createElement("a");
        link.href = "/api/exports/" + encodeURIComponent(job.id) + "/archive";
        link.textContent = "Download";
        archive.appendChild(link);
      }
      const report = row.insertCell();
      const text = reportText(job.report) || job.error || "";
      if (text) { const details = document.createElement("details"); const summary = document.createElement("summary"); summary.textContent = "report"; const pre = document.createElement("pre"); pre.className = "report"; pre.textContent = text; details.append(summary, pre); report.appendChild(details); }
    });
  } catch (error) {
    body.replaceChildren();
    const cell = body.insertRow().insertCell();
    cell.colSpan = 7;
    cell.textContent = "Past exports cannot be listed: " + error.message;
  }
}

function setUpExportPage() {
  const form = document.getElementById("export-form");
  if (!form) return;
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    showMessage("");
    const button = document.getElementById("start-export");
    button.disabled = true;
    try {
      const job = await api("POST", "/api/exports", exportOptions(form));
      showJob(job);
      follow(job.id);
    } catch (error) {
      showMessage("The export could not start: " + error.message);
    } finally {
      button.disabled = false;
    }
  });
  loadPastExports();
}

document.addEventListener("DOMContentLoaded", () => {
  setUpCopyButtons();
  setUpAssetPage();
  setUpExportPage();
});
