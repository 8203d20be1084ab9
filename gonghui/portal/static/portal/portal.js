// Small behaviours of the member portal; every page works without them.
(function () {
  "use strict";

  // Passport holders type birth date and sex; resident IDs carry them.
  function togglePassportFields() {
    var select = document.querySelector("[data-passport-toggle]");
    var block = document.querySelector("[data-passport-only]");
    if (!select || !block) return;
    var update = function () {
      block.hidden = !(select.value === "passport" || select.value === "foreign_permanent");
    };
    select.addEventListener("change", update);
    update();
  }

  // A withdrawal asks once before it is sent.
  function confirmForms() {
    document.querySelectorAll("form[data-confirm]").forEach(function (form) {
      form.addEventListener("submit", function (event) {
        if (!window.confirm(form.getAttribute("data-confirm"))) event.preventDefault();
      });
    });
  }

  // "重新获取验证码" waits out the resend interval.
  function resendCountdown() {
    var button = document.querySelector("[data-countdown]");
    if (!button) return;
    var left = parseInt(button.getAttribute("data-countdown"), 10) || 0;
    var label = button.textContent;
    var tick = function () {
      if (left <= 0) { button.disabled = false; button.textContent = label; return; }
      button.disabled = true;
      button.textContent = label + "（" + left + "秒）";
      left -= 1;
      window.setTimeout(tick, 1000);
    };
    tick();
  }

  // The card keeps showing its last code when the network drops, and says so.
  function cardOffline() {
    var note = document.getElementById("card-offline");
    if (!note) return;
    document.body.addEventListener("htmx:sendError", function () { note.hidden = false; });
    document.body.addEventListener("htmx:afterSwap", function (event) {
      if (event.detail.target && event.detail.target.id === "card-qr") note.hidden = true;
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    togglePassportFields();
    confirmForms();
    resendCountdown();
    cardOffline();
  });
})();
