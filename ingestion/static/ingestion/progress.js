// Live progress in the admin's lists: pushed over /ws/ingestion/progress/, and asked for every few seconds
// while a row is still unsettled (a worker may not share the channel layer). FaroProgress.watch serves the
// document list (below) and the synced sources' list (sources/static/sources/progress.js).
(function () {
  "use strict";
  function setCell(row, name, value) {
    var cell = row && row.querySelector(".field-" + name);
    if (cell && value !== undefined && value !== null) { cell.textContent = value === "" ? "-" : String(value); }
  }
  // options: selector (the status cells), key (their data-* id and the event's "<key>_id"), eventType,
  // refreshKey (the refresh message's list), unsettled (statuses still moving), show(cell, row, event).
  function watch(options) {
    function cells() { return Array.from(document.querySelectorAll(options.selector)); }
    function update(event) {
      cells().forEach(function (cell) {
        if (Number(cell.dataset[options.key]) !== event[options.key + "_id"]) { return; }
        cell.dataset.status = event.status;
        options.show(cell, cell.closest("tr"), event);
      });
    }
    function unsettled() {
      return cells().filter(function (c) { return options.unsettled.indexOf(c.dataset.status) >= 0; })
        .map(function (c) { return Number(c.dataset[options.key]); });
    }
    function connect() {
      if (!cells().length) { return; }
      var scheme = window.location.protocol === "https:" ? "wss://" : "ws://";
      var socket = new WebSocket(scheme + window.location.host + "/ws/ingestion/progress/");
      var timer = null;
      socket.onmessage = function (message) {
        var event = JSON.parse(message.data);
        if (event.type === options.eventType) { update(event); }
      };
      socket.onopen = function () {
        timer = window.setInterval(function () {
          var ids = unsettled();
          var refresh = { type: "refresh" };
          refresh[options.refreshKey] = ids;
          if (ids.length) { socket.send(JSON.stringify(refresh)); }
        }, 3000);
      };
      socket.onclose = function (event) {
        if (timer) { window.clearInterval(timer); }
        if (event.code !== 4403) { window.setTimeout(connect, 5000); }
      };
    }
    document.addEventListener("DOMContentLoaded", connect);
  }
  window.FaroProgress = { watch: watch, setCell: setCell };

  function label(event) {
    if (event.status !== "processing") { return event.status_label; }
    // A bare percentage ("0%") only repeats the progress beside it.
    var detail = event.detail && !/^\s*\d+\s*%?\s*$/.test(event.detail) ? " (" + event.detail + ")" : "";
    return event.status_label + " · " + event.stage_label + " " + event.progress + "%" + detail;
  }
  watch({
    selector: ".faro-progress[data-document]",
    key: "document",
    eventType: "progress",
    refreshKey: "documents",
    unsettled: ["pending", "processing"],
    show: function (cell, row, event) {
      cell.textContent = label(event);
      // Every live column of the row, not only the status: the reason, language and passages.
      setCell(row, "status_reason", event.reason || "");
      if (event.status !== "processing") {  // a running stage does not know them yet
        setCell(row, "language", event.language);
        setCell(row, "chunk_count", event.chunk_count);
      }
    },
  });
})();
