// After an expired session: fill in the form that was sent when the session ran out (api/web/session.py).
// The server puts what the form held in <div id="bewaard" data-formulier="{json}">; the form is the one
// with the same action whose hidden fields (e.g. the klantnummer of a card) match. Without JavaScript the
// page still works, only empty.
(function () {
  "use strict";
  var data = document.getElementById("bewaard");
  if (!data) { return; }
  var kept = JSON.parse(data.dataset.formulier);
  var fields = kept.velden || {};
  var forms = Array.prototype.filter.call(document.forms, function (form) {
    if (new URL(form.action, location.href).pathname !== kept.actie) { return false; }
    return Array.prototype.every.call(form.querySelectorAll("input[type=hidden]"), function (input) {
      return input.name === "csrf" || !(input.name in fields) || input.value === fields[input.name];
    });
  });
  if (forms.length !== 1) { return; }
  var first = null;
  Array.prototype.forEach.call(forms[0].elements, function (element) {
    if (!element.name || element.type === "hidden" || element.type === "password" || !(element.name in fields)) { return; }
    if (element.type === "checkbox" || element.type === "radio") {
      element.checked = element.value === fields[element.name];
    } else {
      element.value = fields[element.name];
    }
    var typed = element.tagName === "TEXTAREA" || (element.tagName === "INPUT" && element.type === "text");
    if (!first && typed && fields[element.name]) { first = element; }  // where the typing was: the text
  });
  var note = document.createElement("p");
  note.className = "notice";
  note.setAttribute("role", "status");
  note.textContent = "Wat u had ingevuld staat er weer; controleer het en verstuur het formulier opnieuw.";
  forms[0].insertBefore(note, forms[0].firstChild);
  if (first) { first.focus(); first.scrollIntoView({block: "center"}); }
}());
