// Opens a Steadfast downtime pack: derive the key from the passphrase (PBKDF2-SHA256), decrypt
// (AES-256-GCM), gunzip, then draw the day lists, the summaries and the patient search.
// Runs from file:// with no network: the page's own Content Security Policy forbids any request.
// Patient data is only ever set as text (textContent), never parsed as HTML.
(function () {
  "use strict";

  var OPENS_KEY = "steadfast.downtime.opens"; // read by the Downtime access page when online
  var SHOWN = 50;
  var RESTRICTED = "restricted record";
  var headerElement = document.getElementById("sf-header");
  var header = JSON.parse(headerElement.textContent);
  var form = document.getElementById("unlock");
  var input = document.getElementById("passphrase");
  var error = document.getElementById("unlock-error");
  var button = form.querySelector("button");
  var pack = null;

  showAge();
  form.addEventListener("submit", function (event) {
    event.preventDefault();
    open();
  });

  function showAge() {
    var made = new Date(header.made_at);
    var minutes = Math.max(0, Math.round((Date.now() - made.getTime()) / 60000));
    var text;
    if (minutes < 60) text = minutes + (minutes === 1 ? " minute" : " minutes");
    else if (minutes < 48 * 60) text = Math.floor(minutes / 60) + " hours " + (minutes % 60) + " minutes";
    else text = Math.floor(minutes / 1440) + " days";
    document.getElementById("age").textContent = "This pack is " + text + " old.";
  }

  function say(message) {
    error.textContent = message;
    error.hidden = false;
    input.setAttribute("aria-invalid", "true");
    input.focus();
  }

  function bytes(base64) {
    var raw = atob(base64);
    var out = new Uint8Array(raw.length);
    for (var i = 0; i < raw.length; i++) out[i] = raw.charCodeAt(i);
    return out;
  }

  async function decrypt(passphrase) {
    var sealed = JSON.parse(document.getElementById("sf-seal").textContent);
    var encoder = new TextEncoder();
    var material = await crypto.subtle.importKey(
      "raw", encoder.encode(passphrase.normalize("NFC")), "PBKDF2", false, ["deriveKey"]
    );
    var key = await crypto.subtle.deriveKey(
      { name: "PBKDF2", hash: "SHA-256", salt: bytes(sealed.salt), iterations: sealed.iterations },
      material, { name: "AES-GCM", length: 256 }, false, ["decrypt"]
    );
    var data = bytes(document.getElementById("sf-data").textContent.trim());
    var plain;
    try {
      plain = await crypto.subtle.decrypt(
        { name: "AES-GCM", iv: bytes(sealed.nonce), additionalData: encoder.encode(headerElement.textContent) },
        key, data
      );
    } catch (e) {
      return null; // the tag did not match: wrong passphrase (or an altered file)
    }
    var stream = new Blob([plain]).stream().pipeThrough(new DecompressionStream("gzip"));
    return JSON.parse(await new Response(stream).text());
  }

  async function open() {
    error.hidden = true;
    input.removeAttribute("aria-invalid");
    if (!input.value) return say("Enter the downtime passphrase.");
    if (!window.crypto || !crypto.subtle || !window.DecompressionStream) {
      return say("This browser cannot open the pack here. Save the file and open it from the device, or use an up-to-date Chrome, Edge, Firefox or Safari.");
    }
    button.disabled = true;
    button.textContent = "Opening…";
    try {
      pack = await decrypt(input.value);
    } finally {
      button.disabled = false;
      button.textContent = "Open";
    }
    if (!pack) {
      input.value = "";
      return say("Wrong passphrase: the pack did not open. Check the passphrase (it is case-sensitive) and try again.");
    }
    input.value = "";
    form.hidden = true;
    queueOpen();
    draw();
  }

  function queueOpen() {
    // Served by Steadfast (the offline copy): note the opening for the audit trail, sent by the
    // Downtime access page once the server answers. From a file there is nowhere to send it.
    if (location.protocol === "file:") return;
    try {
      var opens = JSON.parse(localStorage.getItem(OPENS_KEY) || "[]");
      opens.push({ pack: header.pack, at: new Date().toISOString() });
      localStorage.setItem(OPENS_KEY, JSON.stringify(opens.slice(-100)));
    } catch (e) { /* storage full or refused: the open is not queued */ }
  }

  // --- drawing ---------------------------------------------------------------------------------

  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    if (attrs) for (var name in attrs) {
      if (name === "text") node.textContent = attrs[name];
      else if (name === "className") node.className = attrs[name];
      else node.setAttribute(name, attrs[name]);
    }
    (children || []).forEach(function (child) {
      if (child != null) node.appendChild(typeof child === "string" ? document.createTextNode(child) : child);
    });
    return node;
  }

  function list(items, empty) {
    if (!items || !items.length) return el("p", { text: empty });
    return el("ul", null, items.map(function (text) { return el("li", { text: text }); }));
  }

  function draw() {
    var content = document.getElementById("content");
    drawSearch();
    drawLists(document.getElementById("lists"));
    drawSummaries(document.getElementById("summaries"));
    content.hidden = false;
    document.getElementById("find-input").focus();
  }

  function patientLink(i) {
    var p = pack.register[i];
    if (p.restricted) {
      return el("span", null, [p.name, " ", el("strong", { className: "restricted", text: RESTRICTED })]);
    }
    if (p.summary == null) return el("span", { text: p.name });
    return el("a", { href: "#summary-" + p.summary, text: p.name });
  }

  function drawLists(section) {
    pack.days.forEach(function (day) {
      section.appendChild(el("h2", { text: day.title }));
      if (!day.clinicians.length) section.appendChild(el("p", { text: "No appointments booked." }));
      day.clinicians.forEach(function (clinician) {
        var caption = clinician.name + " (" + clinician.role + ") – " + day.title;
        var rows = clinician.rows.map(function (row) {
          return el("tr", null, [
            el("td", { text: row.time + "–" + row.end }),
            el("td", null, [patientLink(row.patient)]),
            el("td", { text: row.type + (row.mode !== "Face to face" ? " (" + row.mode.toLowerCase() + ")" : "") }),
            el("td", { text: row.reason }),
            el("td", { text: row.status })
          ]);
        });
        section.appendChild(el("div", { className: "table-scroll" }, [el("table", { className: "day-list" }, [
          el("caption", { text: caption }),
          el("thead", null, [el("tr", null, ["Time", "Patient", "Slot type", "Reason", "Status"].map(function (h) {
            return el("th", { scope: "col", text: h });
          }))]),
          el("tbody", null, rows)
        ])]));
      });
    });
  }

  function field(label, value) {
    return [el("dt", { text: label }), el("dd", { text: value || "Not recorded" })];
  }

  function essentials(p) {
    var allergies = p.allergies.length
      ? el("ul", { className: "allergies" }, p.allergies.map(function (a) { return el("li", { text: a }); }))
      : el("p", { className: "allergies", text: p.allergy_status });
    return [
      el("dl", null, [].concat(
        field("Born", p.born_text), field("NHS number", p.nhs), field("Address", p.address),
        field("Phone", p.phone), p.status ? field("Registration", p.status) : []
      )),
      el("h4", { text: "Allergies" }), allergies,
      el("h4", { text: "Current medicines" }), list(p.medicines, "No current medicines."),
      el("h4", { text: "Active problems" }), list(p.problems, "No active problems recorded.")
    ];
  }

  function drawSummaries(section) {
    if (!pack.summaries.length) section.appendChild(el("p", { text: "Nobody is booked in this pack's days." }));
    pack.summaries.forEach(function (s, n) {
      var p = pack.register[s.patient];
      var consultations = s.consultations.length ? s.consultations.map(function (c) {
        return el("div", { className: "consultation" }, [
          el("p", null, [el("strong", { text: c.date + " · " + c.type + (c.by ? " · " + c.by : "") })])
        ].concat(c.text.map(function (t) { return el("p", { text: t }); })));
      }) : [el("p", { text: "No consultations recorded." })];
      var observations = s.observations.length ? el("table", { className: "observations" }, [
        el("caption", { text: "Latest observations" }),
        el("tbody", null, s.observations.map(function (o) {
          return el("tr", null, [el("th", { scope: "row", text: o.label }), el("td", { text: o.value }), el("td", { text: o.date })]);
        }))
      ]) : el("p", { text: "No observations recorded." });
      section.appendChild(el("article", { className: "summary", id: "summary-" + n }, [
        el("h3", { text: p.name })
      ].concat(
        s.alerts.length ? [el("p", { className: "alerts" }, [el("strong", { text: "Alerts: " }), s.alerts.join("; ")])] : [],
        [el("dl", null, [].concat(field("Sex", s.sex), field("Email", s.email), field("Usual GP", s.usual_gp)))],
        essentials(p),
        [el("h4", { text: "Last consultations" })], consultations,
        [el("h4", { text: "Latest observations" }), observations]
      )));
    });
  }

  // --- search ----------------------------------------------------------------------------------

  var MONTHS = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"];

  function nameKey(text) {
    return text.normalize("NFKD").replace(/[^A-Za-z]/g, "").toLowerCase();
  }

  function isoDate(y, m, d) {
    var date = new Date(Date.UTC(+y, +m - 1, +d));
    if (date.getUTCFullYear() !== +y || date.getUTCMonth() !== +m - 1 || date.getUTCDate() !== +d) return null;
    return date.toISOString().slice(0, 10);
  }

  // 24/11/1970, 24-11-1970, 24.11.1970, 1970-11-24, 24 Nov 1970, 24 November 1970
  function parseDate(text) {
    var t = text.trim().toLowerCase(), m;
    if ((m = t.match(/^(\d{1,2})[\/.\-](\d{1,2})[\/.\-](\d{4})$/))) return isoDate(m[3], m[2], m[1]);
    if ((m = t.match(/^(\d{4})-(\d{1,2})-(\d{1,2})$/))) return isoDate(m[1], m[2], m[3]);
    if ((m = t.match(/^(\d{1,2})\s+([a-z]{3,9})\s+(\d{4})$/))) {
      var month = MONTHS.indexOf(m[2].slice(0, 3));
      if (month >= 0) return isoDate(m[3], month + 1, m[1]);
    }
    return null;
  }

  function matcher(text) {
    var digits = text.replace(/[\s-]/g, "");
    if (/^\d{10}$/.test(digits)) {
      var nhs = digits.slice(0, 3) + " " + digits.slice(3, 6) + " " + digits.slice(6);
      return function (p) { return p.nhs === nhs; };
    }
    var born = parseDate(text);
    if (born) return function (p) { return p.born === born; };
    var words = text.replace(/,/g, " ").split(/\s+/).filter(Boolean), dates = [], names = [];
    for (var i = 0; i < words.length; i++) {
      var three = i + 2 < words.length ? parseDate(words.slice(i, i + 3).join(" ")) : null;
      var one = parseDate(words[i]);
      if (three) { dates.push(three); i += 2; } else if (one) dates.push(one);
      else if (nameKey(words[i])) names.push(nameKey(words[i]));
    }
    if (!dates.length && !names.length) return null;
    return function (p) {
      if (dates.some(function (d) { return p.born !== d; })) return false;
      return names.every(function (n) {
        return p.keys.some(function (k) { return k.lastIndexOf(n, 0) === 0; });
      });
    };
  }

  function drawSearch() {
    var box = document.getElementById("find-input");
    var results = document.getElementById("find-results");
    var status = document.getElementById("find-status");
    box.addEventListener("input", function () {
      var text = box.value.trim();
      results.replaceChildren();
      var match = text ? matcher(text) : null;
      if (!match) { status.textContent = text ? "Type a name, an NHS number or a date of birth." : ""; return; }
      var found = pack.register.filter(match);
      status.textContent = found.length === 0 ? "No patient in this pack matches." :
        found.length > SHOWN ? "Showing " + SHOWN + " of " + found.length + " patients: type more to narrow it down." :
        found.length + (found.length === 1 ? " patient found." : " patients found.");
      found.slice(0, SHOWN).forEach(function (p) {
        var heading = el("h3", null, [p.restricted ? patientLink(pack.register.indexOf(p)) : p.name]);
        var body = p.restricted ? [] : essentials(p);
        if (p.summary != null) body.push(el("p", null, [el("a", { href: "#summary-" + p.summary, text: "Booked: see the summary" })]));
        results.appendChild(el("li", { className: "patient" }, [heading].concat(body)));
      });
    });
  }
})();
