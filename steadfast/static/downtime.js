// The Downtime access page: keeps the latest encrypted pack in this browser (Cache API, served
// offline by the service worker), says how old the kept copy is, and sends the openings of that
// copy, queued by the pack page, to the audit trail once the server answers again.
(function () {
  "use strict";
  var OPENS_KEY = "steadfast.downtime.opens";
  var RETRY_MS = 30000;
  var root = document.getElementById("downtime");
  if (!root) return;
  var urls = JSON.parse(root.dataset.urls);
  var CACHE = urls.cache;
  var kept = document.getElementById("kept-copy");
  var openKept = document.getElementById("open-kept");

  if (!("serviceWorker" in navigator) || !window.caches) {
    kept.textContent = "This browser cannot keep a copy here (it needs a secure connection). Download the pack instead.";
    return;
  }
  navigator.serviceWorker.register(urls.worker, { scope: urls.page }).catch(function () {});
  refresh();

  function madeText(iso) {
    var made = new Date(iso);
    var when = new Intl.DateTimeFormat("en-GB", {
      day: "numeric", month: "short", year: "numeric", hour: "2-digit", minute: "2-digit",
      timeZone: "Europe/London"
    }).format(made).replace(",", " at");
    var minutes = Math.max(0, Math.round((Date.now() - made.getTime()) / 60000));
    var age = minutes < 60 ? minutes + (minutes === 1 ? " minute" : " minutes")
      : minutes < 2880 ? Math.floor(minutes / 60) + " hours " + (minutes % 60) + " minutes"
      : Math.floor(minutes / 1440) + " days";
    return "made " + when + " (" + age + " ago)";
  }

  async function showKept(cache) {
    var copy = await cache.match(urls.pack);
    if (copy) {
      kept.textContent = "Kept in this browser: the pack " + madeText(copy.headers.get("X-Pack-Made-At")) + ". Anything after that is not in it.";
      openKept.hidden = false;
    } else {
      kept.textContent = "No copy is kept in this browser yet.";
      openKept.hidden = true;
    }
    return copy;
  }

  async function askServer() {
    try {
      var response = await fetch(urls.status, { cache: "no-store", credentials: "same-origin", redirect: "manual" });
      if (response.ok) return { reachable: true, status: await response.json() };
      return { reachable: true, status: null }; // signed out, or no longer allowed
    } catch (unreachable) {
      return { reachable: false, status: null };
    }
  }

  async function refresh() {
    var cache = await caches.open(CACHE);
    var answer = await askServer();
    document.getElementById("server-unreachable").hidden = answer.reachable;
    document.getElementById("online-only").hidden = !answer.reachable;
    if (!answer.reachable) {
      await showKept(cache);
      setTimeout(function retry() {
        askServer().then(function (again) {
          if (again.reachable) location.reload(); // the fresh page sends the queued openings
          else setTimeout(retry, RETRY_MS);
        });
      }, RETRY_MS);
      return;
    }
    if (answer.status) {
      await keepAssets(cache);
      var copy = await cache.match(urls.pack);
      if (answer.status.pack && (!copy || copy.headers.get("X-Pack-Id") !== answer.status.pack)) {
        kept.textContent = "Keeping the latest pack in this browser…";
        try { await cache.add(urls.pack); } catch (e) { /* pruned meanwhile: next visit */ }
      }
      await sendOpens();
    }
    await showKept(cache);
  }

  async function keepAssets(cache) {
    var assets = new Set([urls.page]); // addAll refuses a list with a request twice
    document.querySelectorAll("link[rel=stylesheet][href], script[src]").forEach(function (node) {
      var url = new URL(node.getAttribute("href") || node.getAttribute("src"), location.href);
      if (url.origin === location.origin) assets.add(url.pathname);
    });
    try { await cache.addAll(Array.from(assets)); } catch (e) { /* kept next time */ }
  }

  function queuedOpens() {
    try { return JSON.parse(localStorage.getItem(OPENS_KEY) || "[]"); } catch (e) { return []; }
  }

  // Sends this practice's queued openings (another practice's wait for one of its staff), and
  // forgets them once the server has recorded them.
  async function sendOpens() {
    var ours = "steadfast-downtime-" + root.dataset.ods + "-";
    var mine = queuedOpens().filter(function (o) { return o && String(o.pack).indexOf(ours) === 0; });
    if (!mine.length) return;
    var response = await fetch(urls.opens, {
      method: "POST", credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": root.dataset.csrf },
      body: JSON.stringify({ opens: mine.slice(0, 100) })
    }).catch(function () { return null; });
    if (response && response.ok) {
      var sent = JSON.stringify(mine.slice(0, 100));
      localStorage.setItem(OPENS_KEY, JSON.stringify(queuedOpens().filter(function (o) {
        return sent.indexOf(JSON.stringify(o)) < 0;
      })));
    }
  }
})();
