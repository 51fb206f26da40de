// Start the NHS.UK frontend components (header menu, error summary focus...). Served locally.
import { initAll } from '/static/vendor/nhsuk/nhsuk-frontend.min.js'
initAll()

// A table wider than its column scrolls sideways inside .app-table-wrap: make that region reachable and scrollable
// by keyboard (WCAG 2.1.1; axe "scrollable-region-focusable") and name it by the table's caption. Only regions that
// really overflow become tab stops, so narrow tables add none.
function focusableScrollRegions () {
  document.querySelectorAll('.app-table-wrap').forEach(function (wrap) {
    if (wrap.scrollWidth > wrap.clientWidth + 1) {
      if (!wrap.hasAttribute('tabindex')) wrap.setAttribute('tabindex', '0')
      if (!wrap.hasAttribute('role')) wrap.setAttribute('role', 'region')
      const caption = wrap.querySelector('caption')
      if (!wrap.hasAttribute('aria-label')) {
        wrap.setAttribute('aria-label', (caption ? caption.textContent.trim() : 'Table') + ' (scrolls sideways)')
      }
    }
  })
}
focusableScrollRegions()
window.addEventListener('resize', focusableScrollRegions)
