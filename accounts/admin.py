from django.contrib import admin
from django.contrib.auth.admin import UserAdmin

from .models import User


@admin.register(User)
class AppUserAdmin(UserAdmin):
    fieldsets = UserAdmin.fieldsets + (("角色", {"fields": ("role", "company")}),)
    list_display = ("username", "role", "company", "is_active")
    list_filter = ("role", "is_active")
