// Live sync progress in the admin's source list, as the document list follows uploads: the "sources" topic
// (sources/progress.py) of the uploads' socket, followed by ingestion's FaroProgress.watch
// (ingestion/static/ingestion/progress.js, loaded before this file).
(function () {
  "use strict";
  var setCell = window.FaroProgress.setCell;
  window.FaroProgress.watch({
    selector: ".faro-source[data-source]",
    key: "source",
    eventType: "source_progress",
    refreshKey: "sources",
    unsettled: ["queued", "running"],
    show: function (cell, row, event) {
      cell.textContent = event.text;
      cell.title = event.reason || "";
      setCell(row, "counts_display", event.counts_text);
      setCell(row, "last_finished_at", event.finished_label);
      setCell(row, "next_sync_at", event.next_label);
    },
  });
})();
