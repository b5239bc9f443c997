"""URLs of the demo pages."""

from django.urls import path

from . import views

app_name = "demo"

urlpatterns = [
    path("", views.index, name="index"),
    path("weather/", views.weather, name="weather"),
    path("rates/", views.rates, name="rates"),
    path("control/", views.control, name="control"),
    path("state.json", views.state, name="state"),
]
