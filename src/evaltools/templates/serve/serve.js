// evaltools serve: reload a page when what it shows was made again; the reviewers' decisions.
// Served by the local server only (never written into the reports); no library, no network
// beyond the server itself. Comments from reviewers are always set as text, never as HTML.
(function () {
  'use strict';
  var bar = document.getElementById('evaltools-serve');
  if (!bar) { return; }
  var page = bar.dataset.page;

  var style = document.createElement('style');
  style.textContent = [
    '#evaltools-serve { font: 14px/1.5 "Noto Sans CJK SC", "Microsoft YaHei", sans-serif; background: #f4f6f9;',
    '  border-bottom: 1px solid #c9d1dc; padding: .4em 1em; position: sticky; top: 0; z-index: 10; color: #111; }',
    '#evaltools-serve:empty { display: none; }',
    '.serve-error { background: #fdecea; border: 1px solid #e0a49c; padding: .3em .6em; margin: .3em 0; }',
    '.serve-error pre { white-space: pre-wrap; margin: .2em 0; font-size: 13px; }',
    '.serve-decision { display: flex; flex-wrap: wrap; gap: .6em; align-items: center; }',
    '.serve-decision input[name=comment] { flex: 1; min-width: 14em; }',
    '.serve-comment { color: #555; margin-left: .4em; } .serve-said { color: #1f7a3a; }',
    '.serve-row { display: flex; gap: .3em; margin-top: .2em; } .serve-row input { width: 8em; }',
    '@media print { #evaltools-serve, .serve-row { display: none; } }'
  ].join('\n');
  document.head.appendChild(style);

  // A decision being written (chosen, typed, not yet saved): a page made again is not reloaded
  // under it (the choice would be lost, or the save go from a page that is being replaced), but
  // once it is saved.
  var unsaved = false, madeAgain = false;
  document.addEventListener('input', function (event) {
    if (event.target.closest && event.target.closest('.serve-row, form.serve-decision')) { unsaved = true; }
  }, true);
  function saved() {
    unsaved = false;
    if (madeAgain) { window.location.reload(); }
  }

  function save(year, report, decision, comment, reviewer, said) {
    said.textContent = '保存中……';
    fetch('/_serve/api/reviews', {
      method: 'POST', credentials: 'same-origin',
      headers: { 'Content-Type': 'application/json', 'X-Requested-With': 'evaltools' },
      body: JSON.stringify({ year: year, report: report, decision: decision, comment: comment, reviewer: reviewer })
    }).then(function (r) { return r.json().then(function (body) { return [r.ok, body]; }); })
      .then(function (answer) {
        said.textContent = answer[0] ? '已保存：' + answer[1].saved : '未保存：' + answer[1].error;
        if (answer[0] && reviewer) { try { localStorage.setItem('evaltools-reviewer', reviewer); } catch (e) { /* private mode */ } }
        if (answer[0]) { saved(); }
      })
      .catch(function (e) { said.textContent = '未保存：' + e; });
  }

  function rememberedName() {
    try { return localStorage.getItem('evaltools-reviewer') || bar.dataset.reviewer || ''; } catch (e) { return bar.dataset.reviewer || ''; }
  }

  // The decision form on a report.
  var form = bar.querySelector('form.serve-decision');
  if (form) {
    if (!form.elements.reviewer.value) { form.elements.reviewer.value = rememberedName(); }
    form.addEventListener('submit', function (event) {
      event.preventDefault();
      var chosen = form.querySelector('input[name=decision]:checked');
      var said = form.querySelector('.serve-said');
      if (!chosen) { said.textContent = '请先选择 通过、退回修改 或 待审'; return; }
      save(form.dataset.year, form.dataset.report, chosen.value, form.elements.comment.value,
           form.elements.reviewer.value, said);
    });
  }

  // In the index: a decision in each project's row, and for each department's own report.
  var year = (page.match(/^\/(\d{4})\/index\.html$/) || [])[1];
  function addControls(container, report) {
    var row = document.createElement('div');
    row.className = 'serve-row';
    var choice = document.createElement('select');
    ['通过', '退回修改', '待审'].forEach(function (d) {
      var option = document.createElement('option'); option.value = d; option.textContent = d; choice.appendChild(option);
    });
    var comment = document.createElement('input');
    comment.placeholder = '意见'; comment.maxLength = 4000;
    var button = document.createElement('button');
    button.type = 'button'; button.textContent = '保存';
    var said = document.createElement('span');
    said.className = 'serve-said'; said.setAttribute('role', 'status');
    button.addEventListener('click', function () { save(year, report, choice.value, comment.value, rememberedName(), said); });
    [choice, comment, button, said].forEach(function (el) { row.appendChild(el); });
    container.appendChild(row);
  }
  if (year) {
    document.querySelectorAll('tr[data-report] td.decision').forEach(function (cell) {
      addControls(cell, cell.parentNode.dataset.report);
    });
    document.querySelectorAll('p.department-report[data-report]').forEach(function (line) {
      addControls(line, line.dataset.report);
    });
  }

  function showErrors(errors) {
    bar.querySelectorAll('.serve-error').forEach(function (old) { old.remove(); });
    Object.keys(errors).forEach(function (where) {
      if (where !== page && where !== '*' && /\/report\.html$/.test(page)) { return; }
      var box = document.createElement('div');
      box.className = 'serve-error'; box.dataset.page = where;
      var head = document.createElement('strong');
      head.textContent = where === '*' ? '暂时无法生成报告，下面仍是上次的结果（稍后自动重试）：'
                                       : '参数有误，下面仍是上次成功生成的报告：';
      var text = document.createElement('pre');
      text.textContent = errors[where];
      box.appendChild(head); box.appendChild(text);
      bar.insertBefore(box, bar.firstChild);
    });
  }

  // Live: reload when this page was made again; show a saved file's errors at once.
  var events = new EventSource('/_serve/events');
  events.onmessage = function (event) {
    var change = JSON.parse(event.data);
    var reload = change.reload.indexOf(page) >= 0 || change.reload.indexOf('*') >= 0 || bar.dataset.waiting === '1';
    if (reload && unsaved) { madeAgain = true; return; }  // reloaded once the decision is saved
    if (reload) { window.location.reload(); return; }
    if (Object.keys(change.errors).length) { showErrors(change.errors); }
  };
})();
