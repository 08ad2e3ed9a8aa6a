"""Local doubles of the outside services the portal calls, served over real HTTP."""
