from django.urls import path

from ledger import views

app_name = "ledger"

urlpatterns = [
    path("", views.task_list_page, name="tasks"),
    path("<uuid:task_id>/", views.task_page, name="task"),
    path("<uuid:task_id>/retry", views.task_retry_view, name="task_retry"),
    path("<uuid:task_id>/cancel", views.task_cancel_view, name="task_cancel"),
    path("<uuid:task_id>/export", views.task_export_download, name="task_export"),
    path("actions/<int:action_id>/approve", views.action_approve_view, name="action_approve"),
    path("actions/<int:action_id>/reject", views.action_reject_view, name="action_reject"),
    path("actions/<int:action_id>/revert", views.action_revert, name="action_revert"),
]
