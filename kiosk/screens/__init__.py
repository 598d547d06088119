"""Kivy screens: thin views over one services facade."""
