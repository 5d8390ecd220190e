// Never lose a chosen file on a form error: a form with a file chosen is posted from here, and when the
// admin answers with the form again (an error), the page's content is replaced and the same files are put
// back into the new file fields. Without fetch or DataTransfer the browser posts the form as usual.
(function () {
  "use strict";
  function filesOf(form) {
    return Array.prototype.filter.call(form.querySelectorAll("input[type=file]"), function (input) {
      return input.files && input.files.length;
    }).map(function (input) { return { name: input.name, files: Array.prototype.slice.call(input.files) }; });
  }
  function restore(chosen) {
    chosen.forEach(function (entry) {
      var input = document.querySelector('#content input[type=file][name="' + entry.name + '"]');
      if (!input) { return; }
      var transfer = new DataTransfer();
      entry.files.forEach(function (file) { transfer.items.add(file); });
      input.files = transfer.files;
      input.dataset.kept = "true";
    });
  }
  function watch(form) {
    form.addEventListener("submit", function (event) {
      var chosen = filesOf(form);
      if (!chosen.length || !window.fetch || !window.DataTransfer || event.defaultPrevented) { return; }
      event.preventDefault();
      var data = new FormData(form);
      if (event.submitter && event.submitter.name) { data.append(event.submitter.name, event.submitter.value); }
      fetch(form.action || window.location.href, { method: "POST", body: data, credentials: "same-origin" })
        .then(function (response) { return response.text().then(function (html) { return [response, html]; }); })
        .then(function (result) {
          var response = result[0], html = result[1];
          var page = new DOMParser().parseFromString(html, "text/html");
          var fresh = page.getElementById("content");
          var content = document.getElementById("content");
          if (response.redirected || !response.ok || !fresh || !content || !fresh.querySelector("form")) {
            // Saved (or something else entirely): show that page as the browser would have.
            window.history.replaceState(null, "", response.url);
            document.open();
            document.write(html);
            document.close();
            return;
          }
          content.replaceWith(document.importNode(fresh, true));
          document.title = page.title;
          restore(chosen);
          if (window.SelectFilter) {  // the groups' two-box picker, as admin/js/SelectFilter2.js sets it up
            document.querySelectorAll("#content select.selectfilter, #content select.selectfilterstacked").forEach(function (el) {
              window.SelectFilter.init(el.id, el.dataset.fieldName, parseInt(el.dataset.isStacked, 10));
            });
          }
          var error = document.querySelector("#content .errornote, #content .errorlist");
          if (error) { error.setAttribute("tabindex", "-1"); error.focus(); }
          document.querySelectorAll("#content form").forEach(watch);
        })
        .catch(function () { form.submit(); });
    });
  }
  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("#content form[enctype='multipart/form-data']").forEach(watch);
  });
})();
