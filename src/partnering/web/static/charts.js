// Draw every SPC chart on the page from its JSON (the table under each chart holds the same data).
(function () {
  if (typeof window.Plotly === 'undefined') return
  document.querySelectorAll('[data-spc-chart]').forEach(function (el) {
    var src = document.getElementById(el.getAttribute('data-spc-chart'))
    if (!src) return
    var fig = JSON.parse(src.textContent)
    el.classList.add('app-chart--drawn')
    window.Plotly.newPlot(el, fig.data, fig.layout, { responsive: true, displaylogo: false, displayModeBar: false })
  })
})()
