"""The platform's URLs and one page that shows a job's progress bar (the browser test of
``core/job_progress.html`` and ``core/jobs.js``)."""

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from django.template import engines
from django.urls import path

from core.jobs.models import Job
from core.urls import urlpatterns as platform_urlpatterns

PAGE = engines["django"].from_string(
    '{% extends "core/base.html" %}{% block content %}<h1>Job</h1>'
    '{% include "core/job_progress.html" with job=job %}{% endblock %}'
)


@login_required
def job_page(request, pk: int):
    job = get_object_or_404(Job.objects.filter(organization__members=request.user), pk=pk)
    return HttpResponse(PAGE.render({"job": job}, request))


urlpatterns = [path("test-job/<int:pk>/", job_page), *platform_urlpatterns]
