// werkmatch: gives each table cell its column's name (data-label), so that on a narrow screen or at
// large zoom a row reads as a card ("Klant: K-1") instead of scrolling sideways (werkmatch.css).
// Without this script the rows still stack, only without the names.
"use strict";
document.addEventListener("DOMContentLoaded", () => {
  for (const table of document.querySelectorAll("table.table")) {
    const names = [];
    for (const head of table.querySelectorAll(":scope > thead > tr > th")) {
      const span = Number(head.getAttribute("colspan") || 1);
      for (let i = 0; i < span; i += 1) names.push(head.textContent.trim());
    }
    for (const row of table.querySelectorAll(":scope > tbody > tr")) {
      let column = 0;
      for (const cell of row.children) {
        if (!cell.hasAttribute("data-label") && Number(cell.getAttribute("colspan") || 1) === 1) {
          cell.setAttribute("data-label", names[column] || "");
        }
        column += Number(cell.getAttribute("colspan") || 1);
      }
    }
  }
});
