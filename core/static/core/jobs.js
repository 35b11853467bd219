// Progress bars of background jobs (core/job_progress.html): while a job is queued or
// running, poll its state in the API, move the bar, and reload the page once it has finished
// so that the page shows the job's outcome. One poller per page, whatever the includes.
(function () {
  "use strict";
  if (window.platformJobsPolling) {
    return;
  }
  window.platformJobsPolling = true;

  var ACTIVE = ["queued", "running"];

  function percent(progress) {
    return Math.round(progress * 100) + " %";
  }

  function show(element, job) {
    var bar = element.querySelector("progress");
    var status = element.querySelector(".job-status");
    if (job.status === "running") {
      bar.value = job.progress;
      bar.textContent = percent(job.progress);
      status.textContent = "running, " + percent(job.progress);
    } else if (job.status === "queued") {
      bar.removeAttribute("value");
      status.textContent = "queued";
    }
    element.dataset.jobStatus = job.status;
  }

  function poll(element, delay) {
    window.setTimeout(function () {
      fetch(element.dataset.jobUrl, {
        credentials: "same-origin",
        headers: { Accept: "application/json" },
      })
        .then(function (response) {
          if (!response.ok) {
            throw new Error("job state answered " + response.status);
          }
          return response.json();
        })
        .then(function (job) {
          if (ACTIVE.indexOf(job.status) === -1) {
            window.location.reload();
            return;
          }
          show(element, job);
          poll(element, 1000);
        })
        .catch(function () {
          // A network hiccup or a restarting server: try again, less often.
          poll(element, Math.min(delay * 2, 15000));
        });
    }, delay);
  }

  function start() {
    var elements = document.querySelectorAll(".job-progress[data-job-url]");
    Array.prototype.forEach.call(elements, function (element) {
      if (ACTIVE.indexOf(element.dataset.jobStatus) !== -1) {
        poll(element, 1000);
      }
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
