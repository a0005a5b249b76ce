/*
 * trackconsent.js - lets a visitor stop, or allow again, the tracking of
 * their visits. Shipped with the trackconsent Python package; include it with
 * the element trackconsent.capture.visitor.script_tag() writes, which carries
 * the configuration as JSON in its data-trackconsent attribute.
 *
 * Functions a site calls, on window.trackconsent:
 *
 *   stopTracking()   Store the answer "refused" in the answer cookie, delete
 *                    the tracking cookie (same Path and Domain it was set
 *                    with), and post the answer to the host's endpoint.
 *   allowTracking()  Store the answer "granted" and post it.
 *   answer()         The stored answer: "granted", "refused", or null.
 *
 * When the page holds the cookie banner, the script shows it to visitors who
 * have not answered yet and wires its two buttons to the same functions.
 * Include the script once per page, after the banner.
 */
(function () {
  "use strict";

  var script = document.currentScript;
  var config = JSON.parse(script.getAttribute("data-trackconsent"));
  var ANSWERS = ["granted", "refused"];

  // Both cookies share one set of attributes, so that deleting the tracking
  // cookie names exactly the Path and Domain the host set it with.
  function attributes(maxAge) {
    var parts = ["Path=" + config.path];
    if (config.domain) {
      parts.push("Domain=" + config.domain);
    }
    parts.push("SameSite=" + config.sameSite);
    if (config.secure) {
      parts.push("Secure");
    }
    parts.push("Max-Age=" + maxAge);
    return parts.join("; ");
  }

  function answer() {
    var pairs = document.cookie ? document.cookie.split(";") : [];
    var found = null;
    for (var i = 0; i < pairs.length; i += 1) {
      var pair = pairs[i].replace(/^\s+/, "");
      var cut = pair.indexOf("=");
      var value = pair.slice(cut + 1);
      if (cut > 0 && pair.slice(0, cut) === config.answerCookie &&
          ANSWERS.indexOf(value) >= 0) {
        found = value;
        if (value === "refused") {
          break;
        }
      }
    }
    return found;
  }

  function post(value, via) {
    if (!config.endpoint) {
      return;
    }
    var body = new URLSearchParams();
    body.append("answer", value);
    body.append("via", via);
    if (via === "banner" && config.wordingVersion) {
      body.append("wording", config.wordingVersion);
    }
    if (navigator.sendBeacon && navigator.sendBeacon(config.endpoint, body)) {
      return;
    }
    window.fetch(config.endpoint, {
      method: "POST", body: body, credentials: "same-origin", keepalive: true
    });
  }

  function store(value, via) {
    document.cookie = config.answerCookie + "=" + value + "; " +
      attributes(config.maxAge);
    if (value === "refused") {
      document.cookie = config.trackingCookie + "=; " + attributes(0);
    }
    post(value, via);
  }

  function wireBanner() {
    var banner = config.bannerId && document.getElementById(config.bannerId);
    if (!banner) {
      return;
    }
    var buttons = banner.querySelectorAll("button[data-trackconsent-answer]");
    for (var i = 0; i < buttons.length; i += 1) {
      buttons[i].addEventListener("click", function (event) {
        var value = event.currentTarget.getAttribute("data-trackconsent-answer");
        if (ANSWERS.indexOf(value) >= 0) {
          store(value, "banner");
          banner.hidden = true;
        }
      });
    }
    banner.hidden = answer() !== null;
  }

  window.trackconsent = {
    stopTracking: function () { store("refused", "script"); },
    allowTracking: function () { store("granted", "script"); },
    answer: answer
  };
  wireBanner();
}());
