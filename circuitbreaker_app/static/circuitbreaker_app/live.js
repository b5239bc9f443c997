/*
 * Refresh the live breaker state on the admin changelist and change page.
 *
 * The server renders every value first, so the page works without this
 * script. Every few seconds it fetches the admin's JSON endpoint (the URL is
 * in data-cb-endpoint) and updates the elements marked with data-cb-name and
 * data-cb-field. Text is set with textContent only, so error messages from
 * the cache are never parsed as HTML.
 */
"use strict";

(function () {
  const TICK_MS = 1000;
  const deadlines = new WeakMap();

  function formatCountdown(seconds) {
    // Matches format_countdown() in circuitbreaker_app/admin/live.py.
    const whole = Math.ceil(seconds);
    const hours = Math.floor(whole / 3600);
    const minutes = Math.floor((whole % 3600) / 60);
    const secs = String(whole % 60).padStart(2, "0");
    if (hours) {
      return hours + ":" + String(minutes).padStart(2, "0") + ":" + secs;
    }
    return minutes + ":" + secs;
  }

  function setText(element, text) {
    if (element.textContent !== text) {
      element.textContent = text;
    }
  }

  function startCountdown(element) {
    const seconds = parseFloat(element.dataset.seconds);
    if (Number.isNaN(seconds)) {
      deadlines.delete(element);
    } else {
      deadlines.set(element, Date.now() + seconds * 1000);
    }
  }

  function tick() {
    document.querySelectorAll('[data-cb-field="retry"]').forEach(function (element) {
      const deadline = deadlines.get(element);
      if (deadline !== undefined) {
        setText(element, formatCountdown(Math.max(0, (deadline - Date.now()) / 1000)));
      }
    });
  }

  function updateElement(element, breaker) {
    const display = breaker.display;
    const field = element.dataset.cbField;
    if (field === "state") {
      element.dataset.state = display.badge;
    } else if (field === "retry") {
      element.dataset.seconds = breaker.retry_after === null ? "" : String(breaker.retry_after);
      startCountdown(element);
    } else if (field === "last_error") {
      element.title = breaker.last_error;
    } else if (field === "last_transition") {
      element.title = breaker.last_changed_at || "";
    }
    if (Object.prototype.hasOwnProperty.call(display, field)) {
      setText(element, display[field]);
    }
  }

  function applyPayload(container, payload) {
    const byName = new Map(payload.breakers.map(function (breaker) {
      return [breaker.name, breaker];
    }));
    document.querySelectorAll("[data-cb-field]").forEach(function (element) {
      const breaker = byName.get(element.dataset.cbName);
      if (breaker) {
        updateElement(element, breaker);
      }
    });
    const summary = container.querySelector("[data-cb-summary]");
    if (summary) {
      setText(summary, payload.summary.text);
    }
    const warning = container.querySelector("[data-cb-warning]");
    if (warning) {
      warning.hidden = payload.available;
    }
    container.dataset.cbStale = "false";
  }

  function poll(container, interval) {
    const next = function () {
      window.setTimeout(function () { poll(container, interval); }, interval);
    };
    if (document.hidden) {
      next();
      return;
    }
    fetch(container.dataset.cbEndpoint, {
      credentials: "same-origin",
      cache: "no-store",
      headers: { Accept: "application/json" },
    })
      .then(function (response) {
        if (!response.ok) {
          throw new Error("live state request failed with status " + response.status);
        }
        return response.json();
      })
      .then(function (payload) { applyPayload(container, payload); })
      .catch(function (error) {
        // Keep the last values on screen, dimmed, and try again at the next poll.
        container.dataset.cbStale = "true";
        console.warn(error);
      })
      .finally(next);
  }

  function start() {
    const container = document.querySelector(".cb-live[data-cb-endpoint]");
    if (!container) {
      return;
    }
    document.querySelectorAll('[data-cb-field="retry"]').forEach(startCountdown);
    window.setInterval(tick, TICK_MS);
    poll(container, parseInt(container.dataset.cbInterval, 10) || 3000);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
