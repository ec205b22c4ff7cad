from django.urls import include, path
from search import views

urlpatterns = [
    path("", include("offramp.intercept.integrations.django.urls")),  # offramp (2 of 2)
    path("", views.home),
]
