// The live dashboard: one EventSource on /events. "init" carries everything so far (a browser may connect at
// any time), then "sample" once a second, "step" at each step boundary and "done" with the checker's verdict.
(function () {
  'use strict';
  var model = { seconds: [], columns: {}, steps: [], anomalies: [] };
  var charts = null;
  var $ = function (id) {
    return document.getElementById(id);
  };
  var KIND_LABELS = window.RolloutCharts.KIND_LABELS;

  function text(id, value) {
    $(id).textContent = value;
  }
  function fmt(value, digits) {
    return value === null || value === undefined ? '–' : Number(value).toFixed(digits || 0);
  }

  function addSample(sample) {
    var last = model.seconds.length - 1;
    var index = last >= 0 && model.seconds[last] >= sample.second ? last : model.seconds.length;
    if (index === model.seconds.length) model.seconds.push(sample.second);
    Object.keys(sample.row).forEach(function (key) {
      var values = model.columns[key];
      if (!values) {
        values = model.columns[key] = [];
      }
      while (values.length < model.seconds.length) values.push(null);
      values[index] = sample.row[key];
    });
    // uPlot needs every column as long as the x values.
    Object.keys(model.columns).forEach(function (key) {
      while (model.columns[key].length < model.seconds.length) model.columns[key].push(null);
    });
    sample.newAnomalies.forEach(function (a) {
      model.anomalies.push(a);
    });
  }

  function showSteps() {
    var list = $('steps');
    list.innerHTML = '';
    model.steps.forEach(function (step, i) {
      var li = document.createElement('li');
      li.textContent = step.label + ' @' + Math.round(step.at) + 's';
      li.title = step.title;
      if (i === model.steps.length - 1) li.className = 'current';
      list.appendChild(li);
    });
    var current = model.steps[model.steps.length - 1];
    if (current) text('step', 'Step ' + current.n + ': ' + current.title);
  }

  function showSample(sample) {
    var row = sample.row;
    text('rps', fmt(row['requests.v1']) + ' · ' + fmt(row['requests.v2']));
    text('p99', fmt(row['p99.v1'], 1) + ' · ' + fmt(row['p99.v2'], 1));
    text('errors', fmt(row.errors));
    text('versions', 'v1: ' + fmt(row['instances.v1']) + '   v2: ' + fmt(row['instances.v2']));
    var kinds = Object.keys(sample.anomalies).filter(function (k) {
      return sample.anomalies[k] > 0;
    });
    var anomalies = $('anomalies');
    anomalies.innerHTML = '';
    var span = document.createElement('span');
    span.className = kinds.length ? 'bad' : 'good';
    span.textContent = kinds.length
      ? kinds
          .map(function (k) {
            return KIND_LABELS[k] + ': ' + sample.anomalies[k];
          })
          .join('  ')
      : '0';
    anomalies.appendChild(span);
    var readNew = sample.readNewPercent === null ? '–' : sample.readNewPercent + '%';
    if (row.readsNew !== null && row.readsNew !== undefined) readNew += ' (served new ' + fmt(row.readsNew) + '%)';
    text('read-new', readNew);
    var b = sample.backfill;
    text('backfill', b ? b.percent + '% ' + (b.status === 'done' ? 'done' : b.etaSeconds !== null ? 'ETA ' + b.etaSeconds + ' s' : '') : 'not started');
    $('backfill-bar').style.width = (b ? b.percent : 0) + '%';
    var d = sample.drift;
    text('drift', d ? d.drift + ' rows (verify #' + d.verify + ')' : 'no verify yet');
    var db = sample.db;
    text(
      'database',
      db.threadsRunning === null
        ? 'SQLite: no server metrics'
        : 'Threads_running ' + db.threadsRunning + ', lock waits/s ' + fmt(db.rowLockWaitsPerSecond) + ', now ' + db.rowLockCurrentWaits +
            (db.replicaState ? ', replica ' + (db.replicaLagSeconds === null ? db.replicaState : 'lag ' + db.replicaLagSeconds + ' s') : '') +
            (db.replicaBehindTransactions === null ? '' : ', ' + db.replicaBehindTransactions + ' transactions behind')
    );
    var body = $('instances').querySelector('tbody');
    body.innerHTML = '';
    sample.instances.forEach(function (instance) {
      var flags = instance.flags || {};
      var cells = [
        [instance.instance, ''],
        [instance.version, instance.version],
        [instance.health, instance.health === 'ok' ? '' : 'bad'],
        [instance.flagSetVersion === null ? '–' : String(instance.flagSetVersion), ''],
        [flags['read-new-percent'] === undefined ? '–' : flags['read-new-percent'] + '%', ''],
        [String(flags['dual-read'] === undefined ? '–' : flags['dual-read']), ''],
        [String(flags['read-trust-new'] === undefined ? '–' : flags['read-trust-new']), ''],
        [String(flags['write-mode'] === undefined ? '–' : flags['write-mode']), ''],
      ];
      var tr = document.createElement('tr');
      cells.forEach(function (cell) {
        var td = document.createElement('td');
        td.textContent = cell[0];
        if (cell[1]) td.className = cell[1];
        tr.appendChild(td);
      });
      body.appendChild(tr);
    });
  }

  function showDone(done) {
    var badge = $('connection');
    badge.textContent = done.passed ? 'finished: PASSED' : 'finished: FAILED';
    badge.className = 'badge ' + (done.passed ? 'done' : 'failed');
    var box = $('verdict');
    box.hidden = false;
    box.className = done.passed ? 'passed' : 'failed';
    box.textContent =
      (done.passed ? 'PASSED' : 'FAILED') + ': ' + done.anomalies + ' anomalies, ' + done.failedRequests + ' failed requests' +
      (done.failure ? ' (' + done.failure + ')' : '') + '. Report: ' + done.report;
  }

  function redraw() {
    if (!charts) charts = window.RolloutCharts.create($('charts'), model);
    else charts.update(model);
  }

  var events = new EventSource('/events');
  events.addEventListener('init', function (e) {
    var state = JSON.parse(e.data);
    model = { seconds: [], columns: {}, steps: state.steps.slice(), anomalies: [] };
    state.samples.forEach(addSample);
    text('meta', '· ' + state.meta.scenario + ' · ' + state.meta.database + (state.meta.stepSeconds ? ' · ' + state.meta.stepSeconds + ' s per step' : ''));
    $('connection').textContent = 'live';
    $('connection').className = 'badge live';
    showSteps();
    if (state.samples.length) showSample(state.samples[state.samples.length - 1]);
    redraw();
    if (state.done) showDone(state.done);
  });
  events.addEventListener('sample', function (e) {
    var sample = JSON.parse(e.data);
    addSample(sample);
    showSample(sample);
    redraw();
  });
  events.addEventListener('step', function (e) {
    model.steps.push(JSON.parse(e.data));
    showSteps();
    redraw();
  });
  events.addEventListener('done', function (e) {
    showDone(JSON.parse(e.data));
    events.close();
  });
  events.onerror = function () {
    if ($('connection').className.indexOf('live') >= 0) {
      $('connection').textContent = 'reconnecting…';
      $('connection').className = 'badge waiting';
    }
  };
})();
