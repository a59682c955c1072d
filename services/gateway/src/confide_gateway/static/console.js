// Confide's console: the little a browser adds to server-rendered pages. Every
// page works without it. Nothing here holds a token: requests carry the
// session cookie (HttpOnly), and the few changes carry the page's CSRF token.
"use strict";

// --- the trail pages on as the reader reaches its end --------------------------------
function pageOn(link) {
  if (link.dataset.loading) return;
  link.dataset.loading = "1";
  fetch(link.href + "&rows=1", {credentials: "same-origin", headers: {Accept: "text/html"}})
    .then(answer => answer.ok ? answer.text() : Promise.reject(new Error(`the trail answered ${answer.status}`)))
    .then(text => {
      const page = new DOMParser().parseFromString(text, "text/html");
      const rows = document.getElementById(link.dataset.more);
      page.querySelectorAll("#rows > tr").forEach(row => rows.appendChild(document.adoptNode(row)));
      const next = page.querySelector("a[data-more]");
      if (next) {
        link.href = next.getAttribute("href");
        delete link.dataset.loading;
      } else {
        link.parentElement.remove();
      }
    })
    .catch(error => { link.textContent = `Older entries (could not load: ${error.message})`; });
}

function watchForMore() {
  const link = document.querySelector("a[data-more]");
  if (!link || !("IntersectionObserver" in window)) return;
  new IntersectionObserver(seen => {
    if (seen.some(s => s.isIntersecting) && document.body.contains(link)) pageOn(link);
  }, {rootMargin: "400px"}).observe(link);
}

// --- an export downloaded with its progress ---------------------------------------------
async function download(link) {
  const box = document.querySelector(".exports .progress");
  const bar = document.getElementById("export-progress");
  const said = document.getElementById("export-status");
  box.hidden = false;
  bar.removeAttribute("value");
  said.textContent = "Starting…";
  const answer = await fetch(link.href, {credentials: "same-origin"});
  if (!answer.ok) {
    const problem = await answer.json().catch(() => ({}));
    said.textContent = `Refused: ${problem.title || answer.status}${problem.detail ? ": " + problem.detail : ""}`;
    return;
  }
  const reader = answer.body.getReader();
  const parts = [];
  let received = 0;
  for (;;) {
    const {done, value} = await reader.read();
    if (done) break;
    parts.push(value);
    received += value.length;
    said.textContent = `${(received / 1024).toFixed(0)} kB received…`;
  }
  const file = URL.createObjectURL(new Blob(parts, {type: answer.headers.get("Content-Type") || ""}));
  const save = Object.assign(document.createElement("a"), {href: file, download: link.dataset.export});
  document.body.appendChild(save);
  save.click();
  save.remove();
  setTimeout(() => URL.revokeObjectURL(file), 60000);
  bar.value = 1;
  bar.max = 1;
  said.textContent = `Done: ${(received / 1024).toFixed(0)} kB saved as ${link.dataset.export}.`;
}

document.addEventListener("click", event => {
  const link = event.target.closest("a[data-export]");
  if (link && window.ReadableStream) {
    event.preventDefault();
    download(link).catch(error => {
      document.getElementById("export-status").textContent = `The download stopped: ${error.message}`;
    });
  }
  if (event.target.closest("button[data-print]")) window.print();
});

document.addEventListener("DOMContentLoaded", watchForMore);
