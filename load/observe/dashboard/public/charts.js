// The rollout's charts, drawn with uPlot: the same code for the live dashboard and for report.html (which
// inlines it). Every chart marks the step boundaries (dashed lines, labelled "4 dual-read") and the moment of
// each anomaly (red ticks at the bottom), so "what happened at step 4" reads straight off any chart.
// model = { seconds: number[], columns: { key: (number|null)[] }, steps: [{ n, step, title, label, at }], anomalies: [{ at, kind }] }
(function () {
  'use strict';
  var BLUE = '#1f6fd1';
  var GREEN = '#1b9e4b';
  var RED = '#d62728';
  var KIND_COLORS = { stale: '#d62728', nonMonotonic: '#9467bd', garbage: '#ff7f0e', lost: '#8c564b', newAheadOfOld: '#e377c2', phantom: '#17becf' };
  var KIND_LABELS = { stale: 'stale', nonMonotonic: 'non-monotonic', garbage: 'garbage', lost: 'lost', newAheadOfOld: 'new ahead of old', phantom: 'phantom' };

  var CHARTS = [
    {
      id: 'requests',
      title: 'Requests per second, by the version that answered',
      series: [
        { key: 'requests.v1', label: 'v1 req/s', color: BLUE },
        { key: 'requests.v2', label: 'v2 req/s', color: GREEN },
        { key: 'errors', label: 'errors/s', color: RED },
      ],
    },
    {
      id: 'latency',
      title: 'p99 latency (ms), by version',
      series: [
        { key: 'p99.v1', label: 'v1 p99 ms', color: BLUE },
        { key: 'p99.v2', label: 'v2 p99 ms', color: GREEN },
      ],
    },
    {
      id: 'anomalies',
      title: 'Anomalies found (cumulative, by kind); red ticks: the moment each happened',
      series: Object.keys(KIND_COLORS).map(function (kind) {
        return { key: 'anomalies.' + kind, label: KIND_LABELS[kind], color: KIND_COLORS[kind], stepped: true };
      }),
      fullAnomalyLines: true,
    },
    {
      id: 'instances',
      title: 'Instances alive by version (instance registry)',
      series: [
        { key: 'instances.v1', label: 'v1 instances', color: BLUE, stepped: true },
        { key: 'instances.v2', label: 'v2 instances', color: GREEN, stepped: true },
      ],
      min: 0,
      max: 4,
    },
    {
      id: 'reads',
      title: 'Read shift: read-new-percent flag, and % of v2 reads served from the new column / fallback',
      series: [
        { key: 'readNewPercent', label: 'read-new-percent flag', color: '#555555', stepped: true, dash: [6, 4] },
        { key: 'readsNew', label: '% from the new column', color: GREEN },
        { key: 'readsFallback', label: '% fallback', color: '#ff7f0e' },
      ],
      min: 0,
      max: 100,
    },
    {
      id: 'backfill',
      title: 'Backfill progress (%) and drift (rows, last verify)',
      empty: 'no backfill or verify in this run (yet)',
      series: [
        { key: 'backfillPercent', label: 'backfill %', color: '#17becf', stepped: true },
        { key: 'drift', label: 'drift rows', color: RED, stepped: true },
      ],
      min: 0,
    },
    {
      id: 'database',
      title: 'Database load: Threads_running, row lock waits/s, replica lag (s, transactions)',
      empty: 'no server metrics (SQLite), or not sampled yet',
      series: [
        { key: 'threadsRunning', label: 'Threads_running', color: '#7f7f7f' },
        { key: 'rowLockWaits', label: 'row lock waits/s', color: '#bcbd22' },
        { key: 'replicaLag', label: 'replica lag s', color: '#9467bd' },
        { key: 'replicaBehind', label: 'replica behind (transactions)', color: '#e377c2', dash: [4, 3] },
      ],
      min: 0,
    },
  ];

  function column(model, key) {
    var values = model.columns[key];
    if (values) return values;
    return model.seconds.map(function () {
      return null;
    });
  }

  function dataOf(model, chart) {
    return [model.seconds].concat(
      chart.series.map(function (s) {
        return column(model, s.key);
      })
    );
  }

  // Step bands, boundaries with their number, and anomaly ticks, drawn under the series.
  function overlay(getModel, chart) {
    return {
      hooks: {
        drawClear: [
          function (u) {
            var model = getModel();
            var ctx = u.ctx;
            var top = u.bbox.top;
            var height = u.bbox.height;
            var ratio = window.devicePixelRatio || 1;
            ctx.save();
            ctx.beginPath();
            ctx.rect(u.bbox.left, top, u.bbox.width, height);
            ctx.clip();
            model.steps.forEach(function (step, i) {
              var x = u.valToPos(step.at, 'x', true);
              var next = i + 1 < model.steps.length ? u.valToPos(model.steps[i + 1].at, 'x', true) : u.bbox.left + u.bbox.width;
              if (i % 2 === 1) {
                ctx.fillStyle = 'rgba(0, 0, 0, 0.035)';
                ctx.fillRect(x, top, next - x, height);
              }
            });
            ctx.restore();
          },
        ],
        draw: [
          function (u) {
            var model = getModel();
            var ctx = u.ctx;
            var ratio = window.devicePixelRatio || 1;
            var top = u.bbox.top;
            var bottom = u.bbox.top + u.bbox.height;
            ctx.save();
            ctx.beginPath();
            ctx.rect(u.bbox.left, top - 18 * ratio, u.bbox.width, u.bbox.height + 18 * ratio);
            ctx.clip();
            ctx.font = 'bold ' + 11 * ratio + 'px system-ui, sans-serif';
            ctx.textAlign = 'center';
            ctx.textBaseline = 'middle';
            var stacked = null;
            model.steps.forEach(function (step, i) {
              var x = Math.round(u.valToPos(step.at, 'x', true));
              var next = i + 1 < model.steps.length ? Math.round(u.valToPos(model.steps[i + 1].at, 'x', true)) : u.bbox.left + u.bbox.width;
              ctx.strokeStyle = 'rgba(60, 60, 60, 0.55)';
              ctx.lineWidth = ratio;
              ctx.setLineDash([4 * ratio, 3 * ratio]);
              ctx.beginPath();
              ctx.moveTo(x, top);
              ctx.lineTo(x, bottom);
              ctx.stroke();
              ctx.setLineDash([]);
              stacked = marker(ctx, step.label, Math.max(u.bbox.left, x), next, top, ratio, stacked);
            });
            if (!hasData(u)) {
              ctx.font = 14 * ratio + 'px system-ui, sans-serif';
              ctx.fillStyle = '#888888';
              ctx.fillText(chart.empty || 'not measured in this run', u.bbox.left + u.bbox.width / 2, top + u.bbox.height / 2);
            }
            var drawn = {};
            model.anomalies.forEach(function (anomaly) {
              var x = Math.round(u.valToPos(anomaly.at, 'x', true));
              var key = anomaly.kind + x;
              if (drawn[key]) return;
              drawn[key] = true;
              ctx.strokeStyle = KIND_COLORS[anomaly.kind] || RED;
              ctx.lineWidth = (chart.fullAnomalyLines ? 1 : 2) * ratio;
              ctx.globalAlpha = chart.fullAnomalyLines ? 0.25 : 0.9;
              ctx.beginPath();
              ctx.moveTo(x, bottom);
              ctx.lineTo(x, chart.fullAnomalyLines ? top : bottom - 10 * ratio);
              ctx.stroke();
              ctx.globalAlpha = 1;
            });
            ctx.restore();
          },
        ],
      },
    };
  }

  // A step's label ("4 dual-read"): across the top of its band when it fits before the next marker, else
  // written down along its line (a demo's steps are a few seconds apart), beside the previous label when two lines
  // are too close for both, so that labels never cover each other. Returns where a written-down label is.
  function marker(ctx, label, x, next, top, ratio, previous) {
    var w = ctx.measureText(label).width + 8 * ratio;
    var h = 14 * ratio;
    ctx.save();
    ctx.fillStyle = 'rgba(51, 51, 51, 0.85)';
    if (w <= next - x) {
      ctx.translate(x, top - 16 * ratio);
      ctx.fillRect(0, 0, w, h);
      ctx.fillStyle = '#ffffff';
      ctx.textAlign = 'left';
      ctx.fillText(label, 4 * ratio, h / 2);
      ctx.restore();
      return null;
    }
    var at = previous && x < previous.x + h + 2 * ratio ? previous.x + h + 2 * ratio : x;
    ctx.translate(at, top);
    ctx.rotate(Math.PI / 2);
    ctx.fillRect(0, -h, w, h);
    ctx.fillStyle = '#ffffff';
    ctx.textAlign = 'left';
    ctx.fillText(label, 4 * ratio, -h / 2);
    ctx.restore();
    return { x: at };
  }

  function hasData(u) {
    for (var i = 1; i < u.data.length; i++) {
      for (var j = 0; j < u.data[i].length; j++) if (u.data[i][j] !== null && u.data[i][j] !== undefined) return true;
    }
    return false;
  }

  function optionsFor(chart, width, getModel) {
    return {
      title: chart.title,
      width: width,
      height: 210,
      padding: [22, 12, 0, 0],
      scales: {
        x: { time: false },
        y: {
          range: function (u, dataMin, dataMax) {
            var min = chart.min !== undefined ? chart.min : Math.min(0, dataMin === null ? 0 : dataMin);
            var max = Math.max(chart.max !== undefined ? chart.max : 1, dataMax === null ? 1 : dataMax * 1.1);
            return [min, max];
          },
        },
      },
      axes: [
        {
          label: 'seconds since the demo started',
          labelSize: 18,
          values: function (u, splits) {
            return splits.map(function (v) {
              return v + 's';
            });
          },
        },
        { size: 48 },
      ],
      // Static labels: a screenshot or a projector shows which line is which, not "--" placeholders.
      legend: { live: false },
      cursor: { drag: { x: false, y: false } },
      series: [{ label: 'second' }].concat(
        chart.series.map(function (s) {
          var series = { label: s.label, stroke: s.color, width: 2, points: { show: false }, spanGaps: false };
          if (s.dash) series.dash = s.dash;
          if (s.stepped) series.paths = uPlot.paths.stepped({ align: 1 });
          return series;
        })
      ),
      plugins: [overlay(getModel, chart)],
    };
  }

  /** Draws every chart into container; returns { update(model) } to redraw with new data. */
  function create(container, model, options) {
    var current = model;
    var getModel = function () {
      return current;
    };
    var columns = (options && options.columns) || 2;
    var plots = CHARTS.map(function (chart) {
      var box = document.createElement('div');
      box.className = 'chart';
      box.setAttribute('data-chart', chart.id);
      container.appendChild(box);
      return { chart: chart, box: box, plot: null };
    });
    var widthOf = function (box) {
      return Math.max(320, Math.floor(box.clientWidth || container.clientWidth / columns) - 4);
    };
    plots.forEach(function (p) {
      p.plot = new uPlot(optionsFor(p.chart, widthOf(p.box), getModel), dataOf(current, p.chart), p.box);
    });
    window.addEventListener('resize', function () {
      plots.forEach(function (p) {
        p.plot.setSize({ width: widthOf(p.box), height: 210 });
      });
    });
    return {
      update: function (next) {
        current = next;
        plots.forEach(function (p) {
          p.plot.setData(dataOf(current, p.chart));
        });
      },
    };
  }

  window.RolloutCharts = { create: create, KIND_LABELS: KIND_LABELS, KIND_COLORS: KIND_COLORS };
})();
