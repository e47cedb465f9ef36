from django.urls import path

from ledger.money import views

app_name = "money"

urlpatterns = [
    path("", views.money_page, name="overview"),
    path("invoices/<int:invoice_id>/", views.money_invoice_page, name="invoice"),
]
