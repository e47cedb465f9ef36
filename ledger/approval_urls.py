from django.urls import path

from ledger import approval_invoice
from ledger import approval_views as views

app_name = "approvals"

urlpatterns = [
    path("", views.approval_list_page, name="list"),
    path("decide", views.approval_batch, name="batch"),
    path("<int:approval_id>/", views.approval_page, name="detail"),
    path("<int:approval_id>/approve", views.approval_approve_view, name="approve"),
    path("<int:approval_id>/edit", views.approval_edit_approve, name="edit"),
    path("<int:approval_id>/reject", views.approval_reject_view, name="reject"),
    path("<int:approval_id>/invoice.png", approval_invoice.approval_invoice_page, name="invoice_page"),
]
