/* leadshare pages: plain JavaScript, no framework. Every page works without it; this adds
   live offer countdowns, the progress form's relevant fields, a VIN check digit, an address
   preview, guards against double submits, and the live inbox (navigation counts and new offers
   without a reload, polled while the page is shown). Texts come from data-* attributes. */
(function () {
  "use strict";

  function fill(template, values) {
    return template.replace(/\{(\w+)\}/g, function (_, key) {
      return key in values ? values[key] : "";
    });
  }

  /* Offer countdowns: count down to expires_at, corrected by the server's clock. */
  var serverNow = Date.parse(document.body.dataset.serverNow || "");
  var skew = isNaN(serverNow) ? 0 : serverNow - Date.now();

  function twoDigits(n) { return (n < 10 ? "0" : "") + n; }

  function tick() {
    document.querySelectorAll(".countdown[data-expires]").forEach(function (el) {
      var left = Math.floor((Date.parse(el.dataset.expires) - (Date.now() + skew)) / 1000);
      if (left <= 0) {
        el.textContent = el.dataset.expired;
        el.classList.add("gone");
        var card = el.closest("[data-offer]");
        if (card) {
          card.querySelectorAll("button[data-live]").forEach(function (b) { b.disabled = true; });
        }
        return;
      }
      var h = Math.floor(left / 3600), m = Math.floor((left % 3600) / 60), s = left % 60;
      var text = (h > 0 ? h + ":" + twoDigits(m) : m) + ":" + twoDigits(s);
      el.textContent = fill(el.dataset.left, { t: text });
      el.classList.toggle("urgent", left < 600);
    });
  }

  /* Progress form: show the order number / VIN / reason fields the chosen step needs. */
  function syncProgress(form) {
    var select = form.querySelector("[data-progress-select]");
    if (!select) { return; }
    form.querySelectorAll("[data-show-for]").forEach(function (field) {
      field.hidden = field.dataset.showFor.split(" ").indexOf(select.value) < 0;
    });
  }

  /* VIN: 17 characters, no I/O/Q, ISO 3779 check digit in position 9 (as leads/vin.py). */
  var VIN_VALUES = { A: 1, B: 2, C: 3, D: 4, E: 5, F: 6, G: 7, H: 8, J: 1, K: 2, L: 3, M: 4,
    N: 5, P: 7, R: 9, S: 2, T: 3, U: 4, V: 5, W: 6, X: 7, Y: 8, Z: 9 };
  var VIN_WEIGHTS = [8, 7, 6, 5, 4, 3, 2, 10, 0, 9, 8, 7, 6, 5, 4, 3, 2];

  function vinProblem(input) {
    var vin = input.value.trim().toUpperCase();
    var d = input.dataset;
    if (!vin) { return ""; }
    if (vin.length !== 17) { return fill(d.msgLength, { n: vin.length }); }
    var total = 0;
    for (var i = 0; i < 17; i++) {
      var c = vin.charAt(i);
      if ("IOQ".indexOf(c) >= 0) { return fill(d.msgChar, { c: c, p: i + 1 }); }
      var v = /[0-9]/.test(c) ? Number(c) : VIN_VALUES[c];
      if (v === undefined) { return fill(d.msgOther, { c: c, p: i + 1 }); }
      total += v * VIN_WEIGHTS[i];
    }
    var expected = total % 11 === 10 ? "X" : String(total % 11);
    if (vin.charAt(8) !== expected) { return fill(d.msgCheck, { f: vin.charAt(8), e: expected }); }
    return "";
  }

  function checkVin(input) {
    var problem = vinProblem(input);
    var hint = input.parentNode.querySelector(".vin-hint");
    if (!hint) {
      hint = document.createElement("div");
      input.parentNode.appendChild(hint);
    }
    var complete = input.value.trim().length >= 17;
    hint.className = "vin-hint " + (problem ? "error" : "hint vin-ok");
    hint.textContent = problem && complete ? problem : (!problem && input.value.trim() ? input.dataset.msgOk : "");
    input.setCustomValidity(problem);
  }

  /* "Which city?": an address naming a district several cities share gets one button per
     city; a tap writes the city in front of the address (routing/ambiguity.py does the same). */
  function qualifiedAddress(c, address) {
    var head = (c.province && c.province !== c.city ? c.province : "") + (c.city || "");
    var text = address;
    if (c.district && text.indexOf(c.district) < 0) { text = c.district + text; }
    return text.indexOf(head) === 0 ? text : head + text;
  }

  function askWhichCity(input, output, q, candidates) {
    output.textContent = "";
    output.className = "geo-preview which-city";
    var question = document.createElement("strong");
    question.textContent = input.dataset.whichCity;
    output.appendChild(question);
    candidates.forEach(function (c) {
      var button = document.createElement("button");
      button.type = "button";
      button.className = "choice";
      button.textContent = c.city + " · " + c.district;
      button.addEventListener("click", function () {
        input.value = qualifiedAddress(c, q);
        previewAddress(input, output);
      });
      output.appendChild(button);
    });
  }

  /* Address preview: where the geocoding chain puts the customer (GET with the session). */
  function previewAddress(input, output) {
    var q = input.value.trim();
    if (!q) { output.textContent = ""; output.className = "geo-preview muted"; return; }
    output.textContent = input.dataset.checking;
    output.className = "geo-preview muted";
    fetch(input.dataset.geocode + "?q=" + encodeURIComponent(q), {
      credentials: "same-origin", headers: { Accept: "application/json" }
    }).then(function (response) {
      if (input.value.trim() !== q) { return; }
      if (!response.ok) {
        output.textContent = input.dataset.missing;
        output.className = "geo-preview missing";
        return;
      }
      return response.json().then(function (place) {
        if (place.precision === "ambiguous") { askWhichCity(input, output, q, place.candidates); return; }
        var parts = [place.province, place.city, place.district].filter(function (p, i, all) {
          return p && all.indexOf(p) === i;
        });
        var key = "precision" + place.precision.charAt(0).toUpperCase() + place.precision.slice(1);
        output.textContent = fill(input.dataset.found, {
          place: parts.join(" "), precision: input.dataset[key] || place.precision
        });
        output.className = "geo-preview found";
      });
    }).catch(function () { output.textContent = ""; });
  }


  /* The live inbox: poll the small JSON read (data-live) every data-poll-seconds while the page
     is shown; update the navigation's counts; on the inbox, bring in new offers (highlighted) and
     drop the ones gone, keeping a card whose decline form is open. Sync workers: no streams. */
  function livePoller(nav) {
    var url = nav.dataset.live;
    var every = Math.max(1, Number(nav.dataset.pollSeconds) || 15) * 1000;
    var list = document.querySelector("[data-offers]");
    var known = offerIds(document);
    var timer = null;
    var busy = false;

    function offerIds(root) {
      var ids = {};
      root.querySelectorAll("[data-offer-id]").forEach(function (el) { ids[el.dataset.offerId] = true; });
      return ids;
    }

    function setCounts(counts) {
      document.querySelectorAll("[data-count]").forEach(function (el) {
        var value = counts[el.dataset.count];
        if (value === undefined) { return; }
        el.textContent = value;
        el.hidden = !value;
      });
    }

    function sameSet(a, b) {
      var ka = Object.keys(a), kb = Object.keys(b);
      return ka.length === kb.length && ka.every(function (k) { return b[k]; });
    }

    function refreshOffers() {
      return fetch(window.location.href, { credentials: "same-origin", headers: { Accept: "text/html" } })
        .then(function (response) { return response.ok ? response.text() : null; })
        .then(function (html) {
          if (!html) { return; }
          var fresh = new DOMParser().parseFromString(html, "text/html");
          var incoming = fresh.querySelector("[data-offers]");
          if (!incoming) { return; }
          var current = {};
          list.querySelectorAll("[data-offer-id]").forEach(function (el) { current[el.dataset.offerId] = el; });
          var kept = [];
          incoming.childNodes.forEach(function (node) {
            var id = node.dataset && node.dataset.offerId;
            if (id && current[id]) { kept.push(current[id]); delete current[id]; return; }
            var added = document.importNode(node, true);
            if (id && !known[id]) {
              added.classList.add("fresh");
              var badge = document.createElement("span");
              badge.className = "badge fresh-badge";
              badge.textContent = list.dataset.freshText;
              var head = added.querySelector(".card-head");
              if (head) { head.appendChild(badge); }
            }
            kept.push(added);
          });
          Object.keys(current).forEach(function (id) {
            if (current[id].querySelector("details[open]")) { kept.push(current[id]); }
          });
          list.replaceChildren.apply(list, kept);
          var total = fresh.querySelector("[data-offers-total]");
          var here = document.querySelector("[data-offers-total]");
          if (total && here) { here.textContent = total.textContent; }
          known = offerIds(document);
          tick();
        });
    }

    function poll() {
      if (busy || document.hidden) { return; }
      busy = true;
      fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
        .then(function (response) {
          if (response.status === 401 || response.status === 403) { stop(); return null; }
          return response.ok ? response.json() : null;
        })
        .then(function (data) {
          if (!data) { return; }
          setCounts(data.counts || {});
          var ids = {};
          (data.offers || []).forEach(function (id) { ids[id] = true; });
          if (list && !sameSet(ids, offerIds(list))) { return refreshOffers(); }
        })
        .catch(function () { /* offline for a moment: the next poll tries again */ })
        .then(function () { busy = false; });
    }

    function start() { if (!timer) { timer = window.setInterval(poll, every); } }
    function stop() { window.clearInterval(timer); timer = null; }

    document.addEventListener("visibilitychange", function () {
      if (document.hidden) { stop(); } else { poll(); start(); }
    });
    if (!document.hidden) { start(); }
    window.leadshareLive = { poll: poll, running: function () { return timer !== null; } };
  }

  document.addEventListener("DOMContentLoaded", function () {
    tick();
    window.setInterval(tick, 1000);

    document.querySelectorAll("form[data-progress]").forEach(function (form) {
      syncProgress(form);
      form.addEventListener("change", function () { syncProgress(form); });
    });

    document.querySelectorAll("input[data-vin]").forEach(function (input) {
      input.addEventListener("input", function () { checkVin(input); });
      if (input.value) { checkVin(input); }
    });

    document.querySelectorAll("input[data-geocode]").forEach(function (input) {
      var output = input.form.querySelector("[data-geocode-output]");
      var timer = null;
      input.addEventListener("input", function () {
        window.clearTimeout(timer);
        timer = window.setTimeout(function () { previewAddress(input, output); }, 450);
      });
      if (input.value) { previewAddress(input, output); }
    });

    document.querySelectorAll("form[data-confirm]").forEach(function (form) {
      form.addEventListener("submit", function (event) {
        if (!window.confirm(form.dataset.confirm)) { event.preventDefault(); }
      });
    });

    /* A double tap on a slow phone connection must not send a form twice (forms the live
       inbox brings in included: the listener is on the document, after the forms' own). */
    document.addEventListener("submit", function (event) {
      var form = event.target;
      if (event.defaultPrevented || !form.matches("form[method=post]")) { return; }
      if (form.dataset.sent) { event.preventDefault(); return; }
      form.dataset.sent = "1";
    });

    /* The phone's "more" tab opens its sheet from the keyboard too. */
    document.querySelectorAll(".more-tab").forEach(function (tab) {
      tab.addEventListener("keydown", function (event) {
        if (event.key === "Enter" || event.key === " ") { event.preventDefault(); tab.click(); }
      });
    });

    var nav = document.querySelector("nav[data-live]");
    if (nav && window.fetch && window.DOMParser) { livePoller(nav); }
  });

  /* Coming back with the browser's back button: the forms may be sent again. */
  window.addEventListener("pageshow", function () {
    document.querySelectorAll("form[data-sent]").forEach(function (form) { delete form.dataset.sent; });
  });
})();
